//! The OpenAPI description of the JSON routes, written beside each route in the contexts'
//! route tables (`routes.rs`): one [`Op`] per operation, with its typed request and answers,
//! so that the table drives the router, the document and the isolation test alike.
//!
//! ```ignore
//! Op::new("Creates an e-service", "e-services")
//!     .path_param("id", "The e-service's id")
//!     .body::<EServiceInput>()
//!     .answer::<EService>(201, "The e-service created")
//!     .errors(&[400, 401, 403, 409])
//! ```

use std::collections::BTreeMap;

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
    Paths,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Components, Schema};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, Info, OpenApi, OpenApiBuilder, Ref, RefOr, Required, ResponseBuilder, Tag,
};
use utoipa::{IntoParams, ToSchema};

use crate::Problem;
use crate::error::PROBLEM_JSON;

type Schemas = Vec<(String, RefOr<Schema>)>;
/// A body's schema and media type.
type Content = (RefOr<Schema>, &'static str);

/// One operation: what it does, its parameters, its body, its answers.
#[derive(Clone)]
pub struct Op {
    summary: String,
    tag: String,
    description: Option<String>,
    parameters: Vec<Parameter>,
    body: Option<Content>,
    answers: Vec<(u16, String, Option<Content>)>,
    security: Option<String>,
    schemas: Schemas,
}

/// The schema of `T`, registered as a component with those it uses; a reference to it. A
/// standard container (`Vec<T>`, `Option<T>`, a map) is written in place: utoipa names them all
/// by the container alone ("Vec"), so as components two lists of different items would share
/// one name and one of them would be described wrongly.
fn component<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let name = T::name().to_string();
    T::schemas(schemas);
    if CONTAINERS.contains(&name.as_str()) {
        return T::schema();
    }
    schemas.push((name.clone(), T::schema()));
    RefOr::Ref(Ref::from_schema_name(name))
}

/// The names utoipa gives to the standard containers whatever they hold.
const CONTAINERS: &[&str] = &["Vec", "Option", "HashMap", "BTreeMap", "Box", "Arc", "Cow"];

impl Op {
    pub fn new(summary: impl Into<String>, tag: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            tag: tag.into(),
            description: None,
            parameters: Vec::new(),
            body: None,
            answers: Vec::new(),
            security: None,
            schemas: Vec::new(),
        }
    }

    /// A longer explanation (Markdown).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// A `{name}` of the path (a string).
    pub fn path_param(mut self, name: &str, description: &str) -> Self {
        self.parameters.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(<String as utoipa::PartialSchema>::schema()))
                .build(),
        );
        self
    }

    /// A header the operation reads.
    pub fn header(mut self, name: &str, required: bool, description: &str) -> Self {
        self.parameters.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(if required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(description))
                .schema(Some(<String as utoipa::PartialSchema>::schema()))
                .build(),
        );
        self
    }

    /// The query parameters of `Q` (its `IntoParams`).
    pub fn query<Q: IntoParams>(mut self) -> Self {
        self.parameters
            .extend(Q::into_params(|| Some(ParameterIn::Query)));
        self
    }

    /// A required JSON body of type `T`.
    pub fn body<T: ToSchema>(mut self) -> Self {
        let schema = component::<T>(&mut self.schemas);
        self.body = Some((schema, "application/json"));
        self
    }

    /// A required body of type `T` in another media type (a form, a PEM file, ...).
    pub fn body_as<T: ToSchema>(mut self, media_type: &'static str) -> Self {
        let schema = component::<T>(&mut self.schemas);
        self.body = Some((schema, media_type));
        self
    }

    /// A JSON answer of type `T` with `status`.
    pub fn answer<T: ToSchema>(mut self, status: u16, description: &str) -> Self {
        let schema = component::<T>(&mut self.schemas);
        self.answers.push((
            status,
            description.into(),
            Some((schema, "application/json")),
        ));
        self
    }

    /// A JSON answer that is a list of `T` (an array of references to `T`'s component).
    pub fn answer_list<T: ToSchema>(mut self, status: u16, description: &str) -> Self {
        let item = component::<T>(&mut self.schemas);
        let array: RefOr<Schema> = utoipa::openapi::schema::ArrayBuilder::new()
            .items(item)
            .into();
        self.answers.push((
            status,
            description.into(),
            Some((array, "application/json")),
        ));
        self
    }

    /// A file as it was stored, in its own content type (`*/*` here: an interface is JSON,
    /// YAML or XML, a document PDF, Markdown, text, ...).
    pub fn answer_file(mut self, status: u16, description: &str) -> Self {
        let bytes: RefOr<Schema> = utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Binary,
            )))
            .into();
        self.answers
            .push((status, description.into(), Some((bytes, "*/*"))));
        self
    }

    /// An answer without a body (204, a redirect, ...).
    pub fn empty(mut self, status: u16, description: &str) -> Self {
        self.answers.push((status, description.into(), None));
        self
    }

    /// The refusals the operation may answer, each a `problem+json` ([`Problem`]).
    pub fn errors(mut self, statuses: &[u16]) -> Self {
        let schema = component::<Problem>(&mut self.schemas);
        for status in statuses {
            let text = axum::http::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Refused");
            self.answers
                .push((*status, text.into(), Some((schema.clone(), PROBLEM_JSON))));
        }
        self
    }

    /// An operation that creates, safe to repeat with an `Idempotency-Key` (see
    /// [`crate::once`]): the header, and the refusals of a reused or running key.
    pub fn idempotent(self) -> Self {
        self.header(
            "Idempotency-Key",
            false,
            "A key of the caller's choosing (1 to 255 visible ASCII characters): a repeat of \
             the request with the same key within a day gets the first answer, marked \
             `Idempotent-Replayed: true`, and creates nothing new.",
        )
        .errors(&[400, 409, 422])
    }

    /// The security scheme (a component's name) the operation needs.
    pub fn security(mut self, scheme: &str) -> Self {
        self.security = Some(scheme.into());
        self
    }

    fn build(mut self) -> (Operation, String, Schemas) {
        // A path segment that cannot be decoded (not UTF-8, say) is refused before the
        // handler, as a 400: every operation with path parameters may answer it.
        let has_path_params = self
            .parameters
            .iter()
            .any(|p| p.parameter_in == ParameterIn::Path);
        if has_path_params && !self.answers.iter().any(|(status, ..)| *status == 400) {
            self = self.errors(&[400]);
        }
        let mut op = OperationBuilder::new()
            .summary(Some(self.summary))
            .description(self.description)
            .tag(self.tag.clone())
            .parameters(Some(self.parameters));
        if let Some((schema, media)) = self.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(media, ContentBuilder::new().schema(Some(schema)).build())
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        for (status, description, content) in self.answers {
            let mut answer = ResponseBuilder::new().description(description);
            if let Some((schema, media)) = content {
                answer = answer.content(media, ContentBuilder::new().schema(Some(schema)).build());
            }
            op = op.response(status.to_string(), answer.build());
        }
        if let Some(scheme) = self.security {
            op = op.security(SecurityRequirement::new(scheme, Vec::<String>::new()));
        }
        (op.build(), self.tag, self.schemas)
    }
}

/// The operations of a context, gathered into a document.
#[derive(Default)]
pub struct Document {
    paths: Paths,
    tags: BTreeMap<String, ()>,
    schemas: BTreeMap<String, RefOr<Schema>>,
}

/// The HTTP method of a route table's `"GET"`, `"POST"`, ...
pub fn http_method(method: &str) -> Option<HttpMethod> {
    Some(match method {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "HEAD" => HttpMethod::Head,
        "OPTIONS" => HttpMethod::Options,
        _ => return None,
    })
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `op` as `method path` (a method the route tables do not use is ignored).
    pub fn add(&mut self, method: &str, path: &str, op: Op) {
        let Some(method) = http_method(method) else {
            return;
        };
        let (operation, tag, schemas) = op.build();
        self.tags.insert(tag, ());
        for (name, schema) in schemas {
            self.schemas.entry(name).or_insert(schema);
        }
        self.paths.merge(
            Paths::builder()
                .path(path, PathItem::new(method, operation))
                .build(),
        );
    }

    /// The document, with `title`.
    pub fn into_openapi(self, title: &str) -> OpenApi {
        let mut components = Components::new();
        components.schemas = self.schemas;
        OpenApiBuilder::new()
            .info(Info::new(title, env!("CARGO_PKG_VERSION")))
            .paths(self.paths)
            .components(Some(components))
            .tags(Some(
                self.tags.into_keys().map(Tag::new).collect::<Vec<_>>(),
            ))
            .build()
    }
}

/// The `(METHOD, path)` of every operation of `doc`.
pub fn operations(doc: &OpenApi) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
            ("HEAD", &item.head),
            ("OPTIONS", &item.options),
        ];
        for (method, op) in methods {
            if op.is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[allow(dead_code)]
    #[derive(Deserialize, ToSchema)]
    struct NewThing {
        name: String,
        inner: Inner,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, Serialize, ToSchema)]
    struct Inner {
        n: u32,
    }

    #[allow(dead_code)]
    #[derive(Serialize, ToSchema)]
    struct Thing {
        id: String,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, IntoParams)]
    struct Page {
        /// How many.
        limit: Option<u32>,
    }

    #[test]
    fn an_operation_documents_its_body_answers_and_refusals_with_schemas() {
        let mut doc = Document::new();
        doc.add(
            "POST",
            "/things/{id}",
            Op::new("Makes a thing", "things")
                .path_param("id", "The id")
                .query::<Page>()
                .body::<NewThing>()
                .answer::<Thing>(201, "Made")
                .errors(&[400, 404]),
        );
        doc.add(
            "GET",
            "/things",
            Op::new("Lists things", "things").answer_list::<Thing>(200, "The things"),
        );
        doc.add(
            "PUT",
            "/things",
            Op::new("Replaces the inners", "things")
                .body::<Vec<Inner>>()
                .answer::<Vec<Inner>>(200, "The inners"),
        );
        doc.add(
            "GET",
            "/things/{id}",
            Op::new("Reads a thing", "things")
                .path_param("id", "The id")
                .answer::<Thing>(200, "The thing"),
        );
        let api = doc.into_openapi("test");
        assert_eq!(
            operations(&api),
            vec![
                ("GET".to_string(), "/things".to_string()),
                ("GET".to_string(), "/things/{id}".to_string()),
                ("POST".to_string(), "/things/{id}".to_string()),
                ("PUT".to_string(), "/things".to_string()),
            ]
        );
        let json = serde_json::to_value(&api).unwrap();
        let post = &json["paths"]["/things/{id}"]["post"];
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/NewThing"
        );
        assert_eq!(
            post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Thing"
        );
        assert_eq!(
            post["responses"]["404"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        let names: Vec<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["id", "limit"]);
        // A path parameter can be refused before the handler: 400 is documented.
        let get = &json["paths"]["/things/{id}"]["get"]["responses"];
        assert_eq!(
            get["400"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        // Lists are arrays of their items, in place: no component named after the container.
        let list = &json["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert_eq!(list["type"], "array", "{list}");
        assert_eq!(list["items"]["$ref"], "#/components/schemas/Thing");
        let put = &json["paths"]["/things"]["put"];
        let inners = &put["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(inners["type"], "array", "{inners}");
        assert!(inners["items"].is_object(), "{inners}");
        assert!(json["components"]["schemas"]["Vec"].is_null());
        for schema in ["NewThing", "Inner", "Thing", "Problem", "InvalidParam"] {
            assert!(
                json["components"]["schemas"][schema].is_object(),
                "{schema} is a component"
            );
        }
    }
}
