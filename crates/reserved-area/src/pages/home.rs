use askama::Template;
use askama_web::WebTemplate;
use platform::layout::Page;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    page: Page,
    products: Vec<(&'static str, &'static str)>,
}

/// `GET /`: what the Reserved Area is and what an institution finds in it.
pub async fn home(page: Page) -> Home {
    Home {
        page,
        products: vec![
            ("ra.home.products.io.title", "ra.home.products.io.text"),
            (
                "ra.home.products.interop.title",
                "ra.home.products.interop.text",
            ),
            (
                "ra.home.products.pagopa.title",
                "ra.home.products.pagopa.text",
            ),
            ("ra.home.products.pn.title", "ra.home.products.pn.text"),
        ],
    }
}
