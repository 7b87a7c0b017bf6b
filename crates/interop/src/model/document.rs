//! The files a producer uploads to a descriptor of an e-service: its interface (the OpenAPI
//! of a REST e-service, the WSDL of a SOAP one) and its other documents. Pure: no IO, no
//! HTTP, no SQL.
//!
//! [`check`] runs these checks in this order, the first that fails being the [`Refusal`]
//! (its code is the real platform's error name):
//!
//! 1. the content type: the declared type (parameters ignored) is empty,
//!    `application/octet-stream` or one known for the file's extension, and an interface's
//!    extension suits the technology (REST: `json`, `yaml`, `yml`; SOAP: `wsdl`, `xml`)
//!    → [`INVALID_CONTENT_TYPE`];
//! 2. the size: at most [`INTERFACE_MAX_BYTES`] / [`DOCUMENT_MAX_BYTES`]
//!    → [`CONTENT_TOO_LARGE`], and not empty → [`INVALID_FILE_UPLOAD`];
//! 3. the extension and the content: a known extension, a `.json` that parses, a `.pdf` that
//!    starts with `%PDF-` (within its first 1024 bytes), any other file UTF-8 text without NUL
//!    → [`INVALID_FILE_UPLOAD`];
//! 4. for an interface only, its server URLs: an OpenAPI 3.x with a non-empty `servers`
//!    list, or a WSDL 1.1 with `soap:address` / `soap12:address` locations, each an absolute
//!    `http(s)` URL with a host → [`OPENAPI_VERSION_NOT_RECOGNIZED`],
//!    [`INVALID_ESERVICE_INTERFACE_FILE`], [`INVALID_SERVER_URL`],
//!    [`SOAP_FILE_PARSING`], [`INTERFACE_EXTRACTING_SOAP_FIELD_VALUE`].
//!
//! A file that passes comes back as [`Checked`]: its canonical content type, its SHA-256,
//! its bare file name and, for an interface, its server URLs (in order, without duplicates).
//!
//! A leading UTF-8 byte-order mark is ignored when a JSON, YAML or XML file is parsed.

use std::fmt::Write as _;

use aws_lc_rs::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use super::Refusal;
use super::eservice::Technology;
use super::read::check_length;

/// The declared content type does not suit the file's extension, or the extension does not
/// suit the e-service's technology.
pub const INVALID_CONTENT_TYPE: &str = "invalidContentTypeDetected";
/// The file is larger than its kind allows.
pub const CONTENT_TOO_LARGE: &str = "contentTooLargeError";
/// The file is empty, has an extension not accepted, or its content does not match it.
pub const INVALID_FILE_UPLOAD: &str = "invalidFileUploadError";
/// The interface is not an OpenAPI 3.x.
pub const OPENAPI_VERSION_NOT_RECOGNIZED: &str = "openapiVersionNotRecognized";
/// The OpenAPI is not a mapping, or its `servers` are missing or malformed.
pub const INVALID_ESERVICE_INTERFACE_FILE: &str = "invalidEserviceInterfaceFileDetected";
/// A server URL of the interface is not an absolute `http(s)` URL with a host.
pub const INVALID_SERVER_URL: &str = "invalidServerUrl";
/// The WSDL declares no `soap:address` / `soap12:address` location.
pub const INTERFACE_EXTRACTING_SOAP_FIELD_VALUE: &str = "interfaceExtractingSoapFieldValueError";
/// The WSDL is not well-formed XML, or not a WSDL 1.1 `definitions`.
pub const SOAP_FILE_PARSING: &str = "soapFileParsingError";

/// Every code [`check`] may refuse with.
pub const CODES: &[&str] = &[
    INVALID_CONTENT_TYPE,
    CONTENT_TOO_LARGE,
    INVALID_FILE_UPLOAD,
    OPENAPI_VERSION_NOT_RECOGNIZED,
    INVALID_ESERVICE_INTERFACE_FILE,
    INVALID_SERVER_URL,
    INTERFACE_EXTRACTING_SOAP_FIELD_VALUE,
    SOAP_FILE_PARSING,
];

pub const INTERFACE_MAX_BYTES: usize = 3 * 1024 * 1024;
pub const DOCUMENT_MAX_BYTES: usize = 10 * 1024 * 1024;
pub const PRETTY_NAME_MIN: usize = 1;
pub const PRETTY_NAME_MAX: usize = 60;

/// The longest server URL accepted, in characters.
pub const SERVER_URL_MAX: usize = 2048;

/// How far into a PDF its `%PDF-` header may start.
const PDF_HEADER_WITHIN: usize = 1024;

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const SOAP11_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const SOAP12_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";

/// The extensions accepted, whatever the kind.
const EXTENSIONS: [&str; 9] = [
    "pdf", "json", "md", "yaml", "yml", "txt", "xsd", "wsdl", "xml",
];

/// The interface of a descriptor, or one of its other documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentKind {
    Interface,
    Document,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Interface => "INTERFACE",
            DocumentKind::Document => "DOCUMENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INTERFACE" => Some(DocumentKind::Interface),
            "DOCUMENT" => Some(DocumentKind::Document),
            _ => None,
        }
    }

    fn max_bytes(self) -> usize {
        match self {
            DocumentKind::Interface => INTERFACE_MAX_BYTES,
            DocumentKind::Document => DOCUMENT_MAX_BYTES,
        }
    }
}

/// What was sent: the file's name as the browser/client gave it, the part's declared content
/// type ("" when none).
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub kind: DocumentKind,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// A file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The content type stored and served back (the canonical one for the extension, e.g.
    /// "application/json", "application/yaml", "application/pdf", "text/markdown",
    /// "text/plain", "application/xml", "application/wsdl+xml").
    pub content_type: &'static str,
    /// Lower-case hex SHA-256 of the bytes (64 chars).
    pub checksum: String,
    /// The file name, trimmed to its last path component (browsers on Windows may send
    /// `C:\...\x.yaml`).
    pub file_name: String,
    /// For an interface: the server URLs it declares (OpenAPI `servers[].url`, WSDL
    /// `soap:address@location`), in order, without duplicates; empty for other documents.
    pub server_urls: Vec<String>,
}

/// Checks an upload for an e-service of `technology` (see the module doc for the order).
pub fn check(technology: Technology, upload: &Upload) -> Result<Checked, Refusal> {
    let file_name = bare_file_name(upload.file_name);
    let extension = extension_of(file_name);

    // 1. Content type.
    if upload.kind == DocumentKind::Interface {
        let accepted = interface_extensions(technology);
        if !accepted.contains(&extension.as_str()) {
            return Err(Refusal::new(
                INVALID_CONTENT_TYPE,
                format!(
                    "The interface of a {} e-service must be a {} file, not {}.",
                    technology.as_str(),
                    list_extensions(accepted),
                    describe_extension(&extension),
                ),
            ));
        }
    }
    let declared = media_type(upload.content_type);
    if !declared.is_empty() && declared != "application/octet-stream" {
        let known = known_types(&extension);
        if !known.contains(&declared.as_str()) {
            let expected = if known.is_empty() {
                String::new()
            } else {
                format!(" (expected one of {})", known.join(", "))
            };
            return Err(Refusal::new(
                INVALID_CONTENT_TYPE,
                format!(
                    "The declared content type {declared} does not match {}{expected}.",
                    describe_extension(&extension),
                ),
            ));
        }
    }

    // 2. Size.
    let size = upload.bytes.len();
    let max = upload.kind.max_bytes();
    if size > max {
        return Err(Refusal::new(
            CONTENT_TOO_LARGE,
            format!(
                "The file is {size} bytes long; {} files may be at most {max} bytes ({} MiB).",
                match upload.kind {
                    DocumentKind::Interface => "interface",
                    DocumentKind::Document => "document",
                },
                max / (1024 * 1024),
            ),
        ));
    }
    if size == 0 {
        return Err(Refusal::new(INVALID_FILE_UPLOAD, "The file is empty."));
    }

    // 3. Extension and content.
    let content = read_content(&extension, upload.bytes)?;

    // 4. Interface.
    let server_urls = match upload.kind {
        DocumentKind::Document => Vec::new(),
        DocumentKind::Interface => match content {
            Content::Json(value) => check_openapi(openapi_from_json(&value))?,
            Content::Text(text) if matches!(extension.as_str(), "yaml" | "yml") => {
                let value: serde_norway::Value = serde_norway::from_str(without_bom(text))
                    .map_err(|e| {
                        Refusal::new(
                            INVALID_ESERVICE_INTERFACE_FILE,
                            format!("The interface is not valid YAML: {e}."),
                        )
                    })?;
                check_openapi(openapi_from_yaml(&value))?
            }
            Content::Text(text) => wsdl_server_urls(text)?,
            // Not reachable: step 1 accepts no PDF as an interface.
            Content::Pdf => {
                return Err(Refusal::new(
                    INVALID_CONTENT_TYPE,
                    "A PDF file cannot be an interface.",
                ));
            }
        },
    };

    // 5. Accepted.
    let canonical = canonical_type(&extension).ok_or_else(|| unknown_extension(&extension))?;
    Ok(Checked {
        content_type: canonical,
        checksum: sha256_hex(upload.bytes),
        file_name: file_name.to_string(),
        server_urls,
    })
}

/// The key of the duplicate check on pretty names (trimmed, lower-case).
pub fn pretty_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A pretty name: 1..=60 characters once trimmed; the error message says why (the caller
/// makes it a field error of `prettyName`).
pub fn check_pretty_name(raw: &str) -> Result<String, String> {
    check_length(raw, PRETTY_NAME_MIN, PRETTY_NAME_MAX)
}

/// The last component of a path, whichever separator the client used, trimmed.
fn bare_file_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

/// Lower-case, after the last dot; "" when there is none.
fn extension_of(file_name: &str) -> String {
    file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

fn describe_extension(extension: &str) -> String {
    if extension.is_empty() {
        "a file without extension".to_string()
    } else {
        format!("a .{extension} file")
    }
}

fn list_extensions(extensions: &[&str]) -> String {
    let dotted: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
    match dotted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

fn interface_extensions(technology: Technology) -> &'static [&'static str] {
    match technology {
        Technology::Rest => &["json", "yaml", "yml"],
        Technology::Soap => &["wsdl", "xml"],
    }
}

/// The media type without its parameters, lower-case.
fn media_type(declared: &str) -> String {
    declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The content types a client may declare for a file with this extension.
fn known_types(extension: &str) -> &'static [&'static str] {
    match extension {
        "pdf" => &["application/pdf"],
        "json" => &["application/json"],
        "yaml" | "yml" => &[
            "application/yaml",
            "application/x-yaml",
            "text/yaml",
            "text/x-yaml",
        ],
        "md" => &["text/markdown", "text/x-markdown", "text/plain"],
        "txt" => &["text/plain"],
        "xsd" | "wsdl" | "xml" => &[
            "application/xml",
            "text/xml",
            "application/wsdl+xml",
            "application/soap+xml",
            "application/xsd+xml",
        ],
        _ => &[],
    }
}

/// The content type stored for a file with this extension.
fn canonical_type(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "pdf" => "application/pdf",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "md" => "text/markdown",
        "txt" => "text/plain",
        "xsd" | "xml" => "application/xml",
        "wsdl" => "application/wsdl+xml",
        _ => return None,
    })
}

fn unknown_extension(extension: &str) -> Refusal {
    Refusal::new(
        INVALID_FILE_UPLOAD,
        format!(
            "{} is not accepted: upload a {} file.",
            capitalized(&describe_extension(extension)),
            list_extensions(&EXTENSIONS),
        ),
    )
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What step 3 read.
enum Content<'a> {
    Pdf,
    Json(serde_json::Value),
    Text(&'a str),
}

fn read_content<'a>(extension: &str, bytes: &'a [u8]) -> Result<Content<'a>, Refusal> {
    if !EXTENSIONS.contains(&extension) {
        return Err(unknown_extension(extension));
    }
    if extension == "pdf" {
        let head = &bytes[..bytes.len().min(PDF_HEADER_WITHIN)];
        return if head.windows(5).any(|w| w == b"%PDF-") {
            Ok(Content::Pdf)
        } else {
            Err(Refusal::new(
                INVALID_FILE_UPLOAD,
                "The file is not a PDF: no %PDF- header in its first 1024 bytes.",
            ))
        };
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Refusal::new(
            INVALID_FILE_UPLOAD,
            format!(
                "The .{extension} file is not UTF-8 text: invalid byte at offset {}.",
                e.valid_up_to()
            ),
        )
    })?;
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(Refusal::new(
            INVALID_FILE_UPLOAD,
            format!("The .{extension} file is not text: it has a NUL byte at offset {at}."),
        ));
    }
    if extension == "json" {
        return serde_json::from_str(without_bom(text))
            .map(Content::Json)
            .map_err(|e| {
                Refusal::new(
                    INVALID_FILE_UPLOAD,
                    format!("The .json file is not valid JSON: {e}."),
                )
            });
    }
    Ok(Content::Text(text))
}

fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// What an OpenAPI says about itself, whether written in JSON or YAML.
struct OpenApi<'a> {
    /// `openapi`: `None` when absent, `Some(None)` when not a string.
    version: Option<Option<&'a str>>,
    /// `servers[].url`: `None` when `servers` is absent or not an array; an item is `None`
    /// when it has no string `url`.
    servers: Option<Vec<Option<&'a str>>>,
}

/// `None` when the document is not an object.
fn openapi_from_json(value: &serde_json::Value) -> Option<OpenApi<'_>> {
    let object = value.as_object()?;
    Some(OpenApi {
        version: object.get("openapi").map(serde_json::Value::as_str),
        servers: object
            .get("servers")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| item.get("url").and_then(serde_json::Value::as_str))
                    .collect()
            }),
    })
}

/// `None` when the document is not a mapping.
fn openapi_from_yaml(value: &serde_norway::Value) -> Option<OpenApi<'_>> {
    value.as_mapping()?;
    Some(OpenApi {
        version: value.get("openapi").map(serde_norway::Value::as_str),
        servers: value
            .get("servers")
            .and_then(serde_norway::Value::as_sequence)
            .map(|items| {
                items
                    .iter()
                    .map(|item| item.get("url").and_then(serde_norway::Value::as_str))
                    .collect()
            }),
    })
}

fn check_openapi(openapi: Option<OpenApi>) -> Result<Vec<String>, Refusal> {
    let Some(openapi) = openapi else {
        return Err(Refusal::new(
            INVALID_ESERVICE_INTERFACE_FILE,
            "The interface is not an OpenAPI document: its top level is not an object.",
        ));
    };
    match openapi.version {
        Some(Some(v)) if v.starts_with("3.") => {}
        Some(Some(v)) => {
            return Err(Refusal::new(
                OPENAPI_VERSION_NOT_RECOGNIZED,
                format!(
                    "The interface declares OpenAPI version {v:?}; only OpenAPI 3.x is accepted."
                ),
            ));
        }
        Some(None) => {
            return Err(Refusal::new(
                OPENAPI_VERSION_NOT_RECOGNIZED,
                "The interface's openapi field is not a string such as \"3.0.3\".",
            ));
        }
        None => {
            return Err(Refusal::new(
                OPENAPI_VERSION_NOT_RECOGNIZED,
                "The interface has no openapi field: only OpenAPI 3.x is accepted (Swagger 2.0 is not).",
            ));
        }
    }
    let servers = match openapi.servers {
        Some(servers) if !servers.is_empty() => servers,
        _ => {
            return Err(Refusal::new(
                INVALID_ESERVICE_INTERFACE_FILE,
                "The interface must declare at least one server in its servers list.",
            ));
        }
    };
    let mut urls = Vec::with_capacity(servers.len());
    for (i, url) in servers.into_iter().enumerate() {
        match url.map(str::trim) {
            Some(url) if !url.is_empty() => urls.push(url),
            _ => {
                return Err(Refusal::new(
                    INVALID_ESERVICE_INTERFACE_FILE,
                    format!("The server at servers[{i}] of the interface has no url."),
                ));
            }
        }
    }
    validated(urls)
}

/// The `soap:address` / `soap12:address` locations of the ports of a WSDL 1.1.
fn wsdl_server_urls(text: &str) -> Result<Vec<String>, Refusal> {
    let document = roxmltree::Document::parse(without_bom(text)).map_err(|e| {
        Refusal::new(
            SOAP_FILE_PARSING,
            format!("The interface is not well-formed XML: {e}."),
        )
    })?;
    let root = document.root_element();
    if !is(root, WSDL_NS, "definitions") {
        return Err(Refusal::new(
            SOAP_FILE_PARSING,
            format!(
                "The interface is not a WSDL 1.1 document: its root element is {} instead of definitions in namespace {WSDL_NS}.",
                qualified(root)
            ),
        ));
    }
    let locations: Vec<&str> = root
        .children()
        .filter(|n| is(*n, WSDL_NS, "service"))
        .flat_map(|service| service.children().filter(|n| is(*n, WSDL_NS, "port")))
        .flat_map(|port| {
            port.children()
                .filter(|n| is(*n, SOAP11_NS, "address") || is(*n, SOAP12_NS, "address"))
        })
        .filter_map(|address| address.attribute("location"))
        .map(str::trim)
        .collect();
    if locations.is_empty() {
        return Err(Refusal::new(
            INTERFACE_EXTRACTING_SOAP_FIELD_VALUE,
            "The WSDL declares no soap:address or soap12:address location in its service ports.",
        ));
    }
    validated(locations)
}

fn is(node: roxmltree::Node, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn qualified(node: roxmltree::Node) -> String {
    let tag = node.tag_name();
    match tag.namespace() {
        Some(ns) => format!("{{{ns}}}{}", tag.name()),
        None => tag.name().to_string(),
    }
}

/// Each URL checked, duplicates dropped, first order kept.
fn validated(urls: Vec<&str>) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::with_capacity(urls.len());
    for url in urls {
        check_server_url(url)?;
        if !out.iter().any(|seen| seen == url) {
            out.push(url.to_string());
        }
    }
    Ok(out)
}

fn check_server_url(raw: &str) -> Result<(), Refusal> {
    let refuse = |why: &str| {
        Err(Refusal::new(
            INVALID_SERVER_URL,
            format!("The server URL {raw:?} is not valid: {why}."),
        ))
    };
    let length = raw.chars().count();
    if length > SERVER_URL_MAX {
        return refuse(&format!(
            "it is {length} characters long, at most {SERVER_URL_MAX} are allowed"
        ));
    }
    if raw.contains(['{', '}']) {
        return refuse("server variables ({...}) are not allowed, write the actual URL");
    }
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => return refuse(&e.to_string()),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse(&format!(
            "its scheme is {}, only http and https are allowed",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return refuse("it has no host");
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    let sum = digest(&SHA256, bytes);
    let mut hex = String::with_capacity(64);
    for b in sum.as_ref() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAPI_30_YAML: &str = r#"openapi: 3.0.3
info:
  title: API Notifiche
  version: 1.0.0
  description: Invio di notifiche a valore legale
servers:
  - url: https://api.notifichedigitali.it/delivery/v1
    description: Produzione
  - url: https://api.uat.notifichedigitali.it/delivery/v1
    description: Collaudo
  - url: https://api.notifichedigitali.it/delivery/v1
    description: Produzione (alias)
paths:
  /notifications/{iun}:
    get:
      operationId: getNotification
      parameters:
        - name: iun
          in: path
          required: true
          schema:
            type: string
      responses:
        200:
          description: La notifica
        '404':
          description: Non trovata
"#;

    const OPENAPI_30_JSON: &str = r#"{
  "openapi": "3.0.1",
  "info": {"title": "Anagrafe", "version": "1.2.0"},
  "servers": [
    {"url": "https://modipa.comune.example.it/anpr/v1"},
    {"url": "http://10.0.0.12:8080/anpr/v1", "description": "interno"}
  ],
  "paths": {"/residenti/{cf}": {"get": {"responses": {"200": {"description": "ok"}}}}}
}"#;

    const OPENAPI_31_YAML: &str = r#"openapi: "3.1.0"
info:
  title: Registro imprese
  version: "2.0"
servers:
  - url: https://registro.example.it/api/v2
webhooks: {}
"#;

    const SWAGGER_20_YAML: &str = r#"swagger: "2.0"
info:
  title: Vecchio servizio
  version: "1.0"
host: old.example.it
basePath: /v1
schemes: [https]
paths: {}
"#;

    const WSDL_SOAP11: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:tns="http://example.it/protocollo"
    targetNamespace="http://example.it/protocollo">
  <wsdl:portType name="ProtocolloPortType"/>
  <wsdl:binding name="ProtocolloBinding" type="tns:ProtocolloPortType">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  </wsdl:binding>
  <wsdl:service name="ProtocolloService">
    <wsdl:documentation>Protocollo informatico</wsdl:documentation>
    <wsdl:port name="ProtocolloPort" binding="tns:ProtocolloBinding">
      <soap:address location="https://protocollo.example.it/ws/ProtocolloService"/>
    </wsdl:port>
    <wsdl:port name="ProtocolloPortBis" binding="tns:ProtocolloBinding">
      <soap:address location="https://protocollo.example.it/ws/ProtocolloService"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#;

    /// Default namespace for WSDL, `s12:` for SOAP 1.2, and a SOAP 1.1 port prefixed `w:`.
    const WSDL_SOAP12_ODD_PREFIX: &str = r#"<?xml version="1.0"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:s12="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:w="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap="http://example.it/not-soap"
    targetNamespace="http://example.it/tributi">
  <service name="TributiService">
    <port name="Tributi12" binding="tns:B12">
      <s12:address location="https://tributi.example.it/soap12"/>
    </port>
    <port name="Tributi11" binding="tns:B11">
      <w:address location="http://tributi.example.it/soap11"/>
    </port>
    <port name="Fake" binding="tns:B11">
      <soap:address location="https://ignored.example.it/"/>
    </port>
  </service>
</definitions>
"#;

    const WSDL_NO_ADDRESS: &str = r#"<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">
  <wsdl:service name="S">
    <wsdl:port name="P" binding="tns:B"/>
  </wsdl:service>
</wsdl:definitions>
"#;

    fn upload<'a>(kind: DocumentKind, name: &'a str, ct: &'a str, bytes: &'a [u8]) -> Upload<'a> {
        Upload {
            kind,
            file_name: name,
            content_type: ct,
            bytes,
        }
    }

    fn interface(
        technology: Technology,
        name: &str,
        ct: &str,
        bytes: &[u8],
    ) -> Result<Checked, Refusal> {
        check(
            technology,
            &upload(DocumentKind::Interface, name, ct, bytes),
        )
    }

    fn document(name: &str, ct: &str, bytes: &[u8]) -> Result<Checked, Refusal> {
        check(
            Technology::Rest,
            &upload(DocumentKind::Document, name, ct, bytes),
        )
    }

    fn code(result: Result<Checked, Refusal>) -> &'static str {
        match result {
            Ok(c) => panic!("expected a refusal, got {c:?}"),
            Err(r) => {
                assert!(!r.message.is_empty());
                assert!(CODES.contains(&r.code), "{}", r.code);
                r.code
            }
        }
    }

    fn openapi_with_servers(servers: &str) -> String {
        format!("openapi: 3.0.3\ninfo:\n  title: T\n  version: '1'\n{servers}paths: {{}}\n")
    }

    #[test]
    fn kinds_round_trip() {
        for k in [DocumentKind::Interface, DocumentKind::Document] {
            assert_eq!(DocumentKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(DocumentKind::parse("interface"), None);
        assert_eq!(CODES.len(), 8);
    }

    #[test]
    fn an_openapi_30_yaml_gives_its_servers_in_order_without_duplicates() {
        let c = interface(
            Technology::Rest,
            "api.yaml",
            "application/x-yaml",
            OPENAPI_30_YAML.as_bytes(),
        )
        .unwrap();
        assert_eq!(
            c.server_urls,
            [
                "https://api.notifichedigitali.it/delivery/v1",
                "https://api.uat.notifichedigitali.it/delivery/v1"
            ]
        );
        assert_eq!(c.content_type, "application/yaml");
        assert_eq!(c.file_name, "api.yaml");
        assert_eq!(c.checksum.len(), 64);
    }

    #[test]
    fn an_openapi_30_json_and_an_openapi_31_are_accepted() {
        let c = interface(
            Technology::Rest,
            "anpr.JSON",
            "application/json; charset=UTF-8",
            OPENAPI_30_JSON.as_bytes(),
        )
        .unwrap();
        assert_eq!(c.content_type, "application/json");
        assert_eq!(
            c.server_urls,
            [
                "https://modipa.comune.example.it/anpr/v1",
                "http://10.0.0.12:8080/anpr/v1"
            ]
        );
        let with_bom = format!("\u{feff}{OPENAPI_30_JSON}");
        assert!(interface(Technology::Rest, "anpr.json", "", with_bom.as_bytes()).is_ok());
        let c = interface(
            Technology::Rest,
            "registro.yml",
            "",
            OPENAPI_31_YAML.as_bytes(),
        )
        .unwrap();
        assert_eq!(c.server_urls, ["https://registro.example.it/api/v2"]);
    }

    #[test]
    fn a_wsdl_gives_its_soap_addresses_by_namespace_not_prefix() {
        let c = interface(
            Technology::Soap,
            "protocollo.wsdl",
            "text/xml",
            WSDL_SOAP11.as_bytes(),
        )
        .unwrap();
        assert_eq!(c.content_type, "application/wsdl+xml");
        assert_eq!(
            c.server_urls,
            ["https://protocollo.example.it/ws/ProtocolloService"]
        );
        let c = interface(
            Technology::Soap,
            "tributi.xml",
            "application/octet-stream",
            WSDL_SOAP12_ODD_PREFIX.as_bytes(),
        )
        .unwrap();
        assert_eq!(c.content_type, "application/xml");
        assert_eq!(
            c.server_urls,
            [
                "https://tributi.example.it/soap12",
                "http://tributi.example.it/soap11"
            ]
        );
    }

    #[test]
    fn the_checksum_is_the_sha256_and_the_windows_path_is_trimmed() {
        let c = document(r"C:\Users\mario\Documenti\note.txt", "text/plain", b"abc").unwrap();
        assert_eq!(
            c.checksum,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(c.file_name, "note.txt");
        assert_eq!(c.content_type, "text/plain");
        assert!(c.server_urls.is_empty());
        let c = document(
            "/srv/portale/guida.md",
            "text/plain",
            "# Guida\nàèì".as_bytes(),
        )
        .unwrap();
        assert_eq!(c.file_name, "guida.md");
        assert_eq!(c.content_type, "text/markdown");
        let c = document("manuale.pdf", "", b"\n%PDF-1.7\n...").unwrap();
        assert_eq!(c.content_type, "application/pdf");
        // A document is not checked as an interface.
        let c = document("swagger.yaml", "", SWAGGER_20_YAML.as_bytes()).unwrap();
        assert!(c.server_urls.is_empty());
    }

    #[test]
    fn invalid_content_type_detected() {
        for (tech, name, ct) in [
            (Technology::Soap, "api.yaml", ""),
            (Technology::Rest, "service.wsdl", "application/wsdl+xml"),
            (Technology::Rest, "api.pdf", "application/pdf"),
            (Technology::Rest, "openapi", ""),
            (Technology::Rest, "schema.png", "image/png"),
            (Technology::Rest, "api.json", "image/png"),
            (Technology::Rest, "api.json", "text/plain"),
        ] {
            let r = interface(tech, name, ct, OPENAPI_30_JSON.as_bytes()).unwrap_err();
            assert_eq!(r.code, INVALID_CONTENT_TYPE, "{name} {ct}");
        }
        let r = interface(Technology::Soap, "api.yaml", "", b"x").unwrap_err();
        assert!(
            r.message.contains("SOAP") && r.message.contains(".wsdl"),
            "{}",
            r.message
        );
        assert_eq!(
            code(document("logo.png", "image/png", b"\x89PNG")),
            INVALID_CONTENT_TYPE
        );
        assert_eq!(
            code(document("a.json", "IMAGE/PNG", b"{}")),
            INVALID_CONTENT_TYPE
        );
    }

    #[test]
    fn content_too_large_error() {
        let big = vec![b' '; INTERFACE_MAX_BYTES + 1];
        assert_eq!(
            code(interface(Technology::Rest, "api.yaml", "", &big)),
            CONTENT_TOO_LARGE
        );
        let exact = vec![b' '; INTERFACE_MAX_BYTES];
        let r = interface(Technology::Rest, "api.yaml", "", &exact).unwrap_err();
        assert_ne!(r.code, CONTENT_TOO_LARGE);
        let big = vec![b'a'; DOCUMENT_MAX_BYTES + 1];
        assert_eq!(code(document("notes.txt", "", &big)), CONTENT_TOO_LARGE);
        let exact = vec![b'a'; DOCUMENT_MAX_BYTES];
        assert!(document("notes.txt", "", &exact).is_ok());
    }

    #[test]
    fn invalid_file_upload_error() {
        assert_eq!(code(document("empty.txt", "", b"")), INVALID_FILE_UPLOAD);
        assert_eq!(
            code(document("logo.png", "", b"\x89PNG")),
            INVALID_FILE_UPLOAD
        );
        let mut late = vec![b' '; 1024];
        late.extend_from_slice(b"%PDF-1.4");
        assert_eq!(
            code(document("late.pdf", "application/pdf", &late)),
            INVALID_FILE_UPLOAD
        );
        let mut edge = vec![b' '; 1019];
        edge.extend_from_slice(b"%PDF-1.4");
        assert!(document("edge.pdf", "", &edge).is_ok());
        assert_eq!(
            code(document("bad.txt", "text/plain", b"caf\xe9")),
            INVALID_FILE_UPLOAD
        );
        assert_eq!(code(document("nul.md", "", b"# a\0b")), INVALID_FILE_UPLOAD);
        assert_eq!(
            code(document("data.json", "application/json", b"{\"a\": 1,}")),
            INVALID_FILE_UPLOAD
        );
        assert_eq!(
            code(interface(
                Technology::Rest,
                "api.json",
                "",
                b"{\"openapi\": "
            )),
            INVALID_FILE_UPLOAD
        );
    }

    #[test]
    fn openapi_version_not_recognized() {
        assert_eq!(
            code(interface(
                Technology::Rest,
                "old.yaml",
                "",
                SWAGGER_20_YAML.as_bytes()
            )),
            OPENAPI_VERSION_NOT_RECOGNIZED
        );
        let v2 = OPENAPI_30_YAML.replace("openapi: 3.0.3", "openapi: 2.0.0");
        assert_eq!(
            code(interface(Technology::Rest, "a.yaml", "", v2.as_bytes())),
            OPENAPI_VERSION_NOT_RECOGNIZED
        );
        assert_eq!(
            code(interface(
                Technology::Rest,
                "a.json",
                "",
                br#"{"openapi": 3, "servers": []}"#
            )),
            OPENAPI_VERSION_NOT_RECOGNIZED
        );
    }

    #[test]
    fn invalid_eservice_interface_file_detected() {
        let without = openapi_with_servers("");
        let empty = openapi_with_servers("servers: []\n");
        let no_url = openapi_with_servers("servers:\n  - description: x\n");
        let blank_url = openapi_with_servers("servers:\n  - url: ''\n");
        for bytes in [
            without.as_bytes(),
            empty.as_bytes(),
            no_url.as_bytes(),
            blank_url.as_bytes(),
            b"- openapi: 3.0.3\n".as_slice(),
            b"openapi: [3.0.3\n".as_slice(),
        ] {
            assert_eq!(
                code(interface(Technology::Rest, "a.yaml", "", bytes)),
                INVALID_ESERVICE_INTERFACE_FILE,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(
            code(interface(Technology::Rest, "a.json", "", b"[1, 2]")),
            INVALID_ESERVICE_INTERFACE_FILE
        );
    }

    #[test]
    fn invalid_server_url() {
        for url in [
            "ftp://files.example.it/v1",
            "https://{host}/v1",
            "https://api.example.it/{basePath}",
            "/v1",
            "mailto:dev@example.it",
        ] {
            let yaml = openapi_with_servers(&format!("servers:\n  - url: '{url}'\n"));
            let r = interface(Technology::Rest, "a.yaml", "", yaml.as_bytes()).unwrap_err();
            assert_eq!(r.code, INVALID_SERVER_URL, "{url}");
            assert!(r.message.contains(url), "{}", r.message);
        }
        let long = format!("https://api.example.it/{}", "a".repeat(SERVER_URL_MAX));
        let yaml = openapi_with_servers(&format!("servers:\n  - url: {long}\n"));
        assert_eq!(
            code(interface(Technology::Rest, "a.yaml", "", yaml.as_bytes())),
            INVALID_SERVER_URL
        );
        let wsdl = WSDL_SOAP11.replace("https://protocollo", "ftp://protocollo");
        assert_eq!(
            code(interface(Technology::Soap, "p.wsdl", "", wsdl.as_bytes())),
            INVALID_SERVER_URL
        );
    }

    #[test]
    fn interface_extracting_soap_field_value_error() {
        assert_eq!(
            code(interface(
                Technology::Soap,
                "s.wsdl",
                "",
                WSDL_NO_ADDRESS.as_bytes()
            )),
            INTERFACE_EXTRACTING_SOAP_FIELD_VALUE
        );
    }

    #[test]
    fn soap_file_parsing_error() {
        let broken = &WSDL_SOAP11[..WSDL_SOAP11.len() - 30];
        assert_eq!(
            code(interface(Technology::Soap, "p.wsdl", "", broken.as_bytes())),
            SOAP_FILE_PARSING
        );
        let not_wsdl =
            br#"<?xml version="1.0"?><catalog xmlns="http://example.it/c"><book/></catalog>"#;
        assert_eq!(
            code(interface(Technology::Soap, "c.xml", "", not_wsdl)),
            SOAP_FILE_PARSING
        );
        let wrong_ns = br#"<definitions xmlns="http://www.w3.org/ns/wsdl"/>"#;
        assert_eq!(
            code(interface(Technology::Soap, "c.wsdl", "", wrong_ns)),
            SOAP_FILE_PARSING
        );
    }

    #[test]
    fn pretty_names_are_trimmed_bounded_in_characters_and_keyed() {
        assert_eq!(pretty_name_key("  Manuale Utente  "), "manuale utente");
        assert_eq!(pretty_name_key("ÀNCORA"), "àncora");
        assert!(check_pretty_name("").is_err());
        assert!(check_pretty_name("   ").is_err());
        assert_eq!(check_pretty_name(" a ").unwrap(), "a");
        let sixty = "è".repeat(60);
        assert_eq!(check_pretty_name(&sixty).unwrap(), sixty);
        let e = check_pretty_name(&"è".repeat(61)).unwrap_err();
        assert!(e.contains("61"), "{e}");
    }
}
