//! The OpenAPI description of both environments' JSON routes, made from the route table
//! ([`crate::routes`]): each JSON route's [`platform::openapi::Op`] under
//! `/interop/produzione` and `/interop/collaudo`.

use platform::error::PROBLEM_JSON;
use platform::openapi::Document;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::Access;
use crate::model::Environment;
use crate::routes::routes;

/// Both environments' JSON operations (`/interop/<environment>/api/...`, the JWKS and the
/// token endpoint).
pub fn openapi() -> OpenApi {
    let mut doc = Document::new();
    let mut token_paths = Vec::new();
    for env in Environment::ALL {
        for route in routes() {
            let Some(op) = route.op else { continue };
            let path = format!("/interop/{}{}", env.as_str(), route.decl.path);
            if route.decl.access == Access::Token {
                token_paths.push(path.clone());
            }
            doc.add(route.decl.method, &path, op);
        }
    }
    let mut api = doc.into_openapi("PDND Interoperability");
    // The token endpoint's refusals are the reference's problem documents, as problem+json.
    for path in token_paths {
        let Some(op) = api
            .paths
            .paths
            .get_mut(&path)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        for (status, answer) in op.responses.responses.iter_mut() {
            if status.starts_with('2') {
                continue;
            }
            if let utoipa::openapi::RefOr::T(answer) = answer
                && let Some(content) = answer.content.shift_remove("application/json")
            {
                answer.content.insert(PROBLEM_JSON.to_string(), content);
            }
        }
    }
    // The environment's own session token (from `POST /interop/<environment>/api/session`).
    api.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    api
}
