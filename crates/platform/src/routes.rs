//! The route-table machinery every context shares: each route's method and path once, who may
//! call it (the context's own access enum `A`), its handler and, for a JSON route, its OpenAPI
//! operation. One table drives the router, the OpenAPI document and the isolation tests.
//!
//! A context keeps its decoration (path parameters, security, tags) in its own constructor
//! functions that wrap [`Route::json`].

use axum::Router;
use axum::routing::MethodRouter;

use crate::openapi::{Document, Op};

/// A route as the tests see it.
#[derive(Debug, Clone, Copy)]
pub struct RouteDecl<A> {
    pub method: &'static str,
    pub path: &'static str,
    /// Who may call the route.
    pub access: A,
    /// A JSON route, described in the OpenAPI document (the others are pages, forms,
    /// redirects and assets).
    pub json: bool,
    /// A route that creates something: a repeat with the same one-time token or
    /// `Idempotency-Key` gets the first answer (see [`crate::once`]).
    pub creates: bool,
}

/// One line of a route table.
pub struct Route<A, S> {
    pub decl: RouteDecl<A>,
    pub handler: MethodRouter<S>,
    /// The OpenAPI operation of a JSON route; `None` for the others.
    pub op: Option<Op>,
}

impl<A, S> Route<A, S> {
    /// A page, a form, a redirect or an asset (not in the OpenAPI document).
    pub fn page(
        method: &'static str,
        path: &'static str,
        access: A,
        handler: MethodRouter<S>,
    ) -> Self {
        Self {
            decl: RouteDecl {
                method,
                path,
                access,
                json: false,
                creates: false,
            },
            handler,
            op: None,
        }
    }

    /// A JSON route with its operation.
    pub fn json(
        method: &'static str,
        path: &'static str,
        access: A,
        handler: MethodRouter<S>,
        op: Op,
    ) -> Self {
        Self {
            decl: RouteDecl {
                method,
                path,
                access,
                json: true,
                creates: false,
            },
            handler,
            op: Some(op),
        }
    }
}

impl<A, S: Clone + Send + Sync + 'static> Route<A, S> {
    /// Marks a route that creates something: a repeated request (a form's one-time token, an
    /// API's `Idempotency-Key`) gets the first answer instead of creating again. Its answers are
    /// kept for a day, so they must not carry secrets.
    pub fn creates(mut self) -> Self {
        self.decl.creates = true;
        self.handler = self
            .handler
            .layer(axum::middleware::from_fn(crate::once::guard));
        self.op = self.op.map(Op::idempotent);
        self
    }
}

/// A context's routes, in table order.
pub struct RouteTable<A, S>(pub Vec<Route<A, S>>);

impl<A: Copy, S: Clone + Send + Sync + 'static> RouteTable<A, S> {
    /// Every route as the tests see it, in table order.
    pub fn decls(&self) -> Vec<RouteDecl<A>> {
        self.0.iter().map(|r| r.decl).collect()
    }

    /// The `(METHOD, path)` of every JSON route, sorted.
    pub fn json_routes(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|r| r.op.is_some())
            .map(|r| (r.decl.method.to_string(), r.decl.path.to_string()))
            .collect();
        out.sort();
        out
    }

    /// The router of every route: the handlers of one path merged into one method router, the
    /// paths in table order.
    pub fn router(self) -> Router<S> {
        let mut by_path: Vec<(&'static str, MethodRouter<S>)> = Vec::new();
        for Route { decl, handler, .. } in self.0 {
            match by_path.iter_mut().find(|(p, _)| *p == decl.path) {
                Some((_, existing)) => {
                    let merged = std::mem::take(existing).merge(handler);
                    *existing = merged;
                }
                None => by_path.push((decl.path, handler)),
            }
        }
        by_path
            .into_iter()
            .fold(Router::new(), |router, (path, handler)| {
                router.route(path, handler)
            })
    }

    /// Adds each JSON route's operation to `doc` at `prefix` + its path.
    pub fn add_to(self, doc: &mut Document, prefix: &str) {
        for route in self.0 {
            if let Some(op) = route.op {
                doc.add(
                    route.decl.method,
                    &format!("{prefix}{}", route.decl.path),
                    op,
                );
            }
        }
    }

    /// The document of the JSON routes, each at `prefix` + its path.
    pub fn document(self, prefix: &str) -> Document {
        let mut doc = Document::new();
        self.add_to(&mut doc, prefix);
        doc
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::{get, post};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::openapi::operations;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Access {
        Public,
        Member,
    }

    fn table() -> RouteTable<Access, ()> {
        RouteTable(vec![
            Route::page("GET", "/things", Access::Public, get(|| async { "list" })),
            Route::json(
                "POST",
                "/things",
                Access::Member,
                post(|| async { "made" }),
                Op::new("Makes a thing", "things").empty(201, "Made"),
            ),
            Route::json(
                "GET",
                "/things/{id}",
                Access::Member,
                get(|| async { "one" }),
                Op::new("Reads a thing", "things")
                    .path_param("id", "The thing's id")
                    .empty(200, "The thing"),
            ),
        ])
    }

    async fn call(router: &Router, method: &str, path: &str) -> (StatusCode, String) {
        let answer = router
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = answer.status();
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_handlers_of_one_path_share_one_router_and_all_answer() {
        let router = table().router();
        assert_eq!(
            call(&router, "GET", "/things").await,
            (StatusCode::OK, "list".into())
        );
        assert_eq!(
            call(&router, "POST", "/things").await,
            (StatusCode::OK, "made".into())
        );
        assert_eq!(
            call(&router, "GET", "/things/7").await,
            (StatusCode::OK, "one".into())
        );
        assert_eq!(
            call(&router, "DELETE", "/things").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn the_decls_are_the_table_in_order() {
        let decls: Vec<_> = table()
            .decls()
            .into_iter()
            .map(|d| (d.method, d.path, d.access, d.json))
            .collect();
        assert_eq!(
            decls,
            vec![
                ("GET", "/things", Access::Public, false),
                ("POST", "/things", Access::Member, true),
                ("GET", "/things/{id}", Access::Member, true),
            ]
        );
        assert_eq!(
            table().json_routes(),
            vec![
                ("GET".to_string(), "/things/{id}".to_string()),
                ("POST".to_string(), "/things".to_string()),
            ]
        );
    }

    #[test]
    fn the_document_holds_the_json_routes_under_the_prefix() {
        let doc = table().document("/v1").into_openapi("Things");
        let mut ops = operations(&doc);
        ops.sort();
        assert_eq!(
            ops,
            vec![
                ("GET".to_string(), "/v1/things/{id}".to_string()),
                ("POST".to_string(), "/v1/things".to_string()),
            ]
        );
        let one = doc
            .paths
            .paths
            .get("/v1/things/{id}")
            .and_then(|item| item.get.as_ref())
            .unwrap();
        assert_eq!(one.summary.as_deref(), Some("Reads a thing"));
        let params = one.parameters.as_ref().unwrap();
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].name, "id");
    }
}
