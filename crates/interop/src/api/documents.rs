//! The files of a version: its interface and other documents, uploaded as
//! `multipart/form-data` (`kind`, `prettyName`, `doc`) as on the real platform.

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::web::FormData;
use serde::Deserialize;
use utoipa::ToSchema;

use super::producer;
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::document::{DocumentKind, Upload};
use crate::state::EnvState;
use crate::store::documents::{self, DocumentInfo, NewDocument};

/// `multipart/form-data` of an upload: the document's schema; [`FormData`] reads the parts.
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "the OpenAPI schema of the multipart body, read as FormData"
)]
#[schema(as = InteropDocumentUpload)]
#[serde(rename_all = "camelCase")]
pub struct DocumentUpload {
    /// `INTERFACE` (OpenAPI 3 in JSON or YAML for REST, WSDL for SOAP; one per version, in a
    /// draft) or `DOCUMENT` (PDF, Markdown, text, JSON, YAML, XML, XSD, WSDL).
    pub kind: String,
    /// The name people see: 1 to 60 characters, unique in the version (any case).
    pub pretty_name: String,
    /// The file: at most 3 MiB for an interface, 10 MiB for a document.
    #[schema(value_type = String, format = Binary)]
    pub doc: Vec<u8>,
}

/// Reads the upload's parts; a missing or unknown part names its field.
fn read(form: &FormData) -> Result<(DocumentKind, &str, &platform::web::Upload), InteropError> {
    let mut errors = Vec::new();
    let kind = DocumentKind::parse(form.value("kind"));
    if kind.is_none() {
        errors.push(crate::model::FieldError::new(
            "kind",
            "must be INTERFACE or DOCUMENT",
        ));
    }
    let file = form.file("doc");
    if file.is_none() {
        errors.push(crate::model::FieldError::new(
            "doc",
            "is required: the file, as a part with a file name",
        ));
    }
    match (kind, file) {
        (Some(kind), Some(file)) if errors.is_empty() => Ok((kind, form.value("prettyName"), file)),
        _ => Err(InteropError::Invalid(errors)),
    }
}

/// `POST /api/eservices/{id}/descriptors/{descriptor_id}/documents`: the role is checked
/// before the body (up to the upload limit) is read.
pub async fn upload(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
    request: Request,
) -> Result<(StatusCode, Json<DocumentInfo>), InteropError> {
    producer(&m)?;
    let form = FormData::from_request(request, &())
        .await
        .map_err(|e| InteropError::invalid("body", e.0))?;
    let (kind, pretty_name, file) = read(&form)?;
    let d = documents::add(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &descriptor_id,
        &NewDocument {
            upload: Upload {
                kind,
                file_name: &file.file_name,
                content_type: &file.content_type,
                bytes: &file.bytes,
            },
            pretty_name,
            user_id: m.session.user_id(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// A stored file as an answer: its content type, its name for the browser's download.
pub fn file_response(info: &DocumentInfo, content: Vec<u8>) -> Response {
    // The name is the uploader's: only safe characters go into the header.
    let name: String = info
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, info.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        content,
    )
        .into_response()
}

/// `GET /api/eservices/{id}/descriptors/{descriptor_id}/documents/{document_id}`
pub async fn download(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id, document_id)): Path<(String, String, String)>,
) -> Result<Response, InteropError> {
    let (info, content) = documents::content(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &descriptor_id,
        &document_id,
    )
    .await?;
    Ok(file_response(&info, content))
}

/// `DELETE /api/eservices/{id}/descriptors/{descriptor_id}/documents/{document_id}`
pub async fn delete(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id, document_id)): Path<(String, String, String)>,
) -> Result<StatusCode, InteropError> {
    producer(&m)?;
    documents::delete(
        &state.platform.db,
        state.env,
        m.by(),
        &id,
        &descriptor_id,
        &document_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
