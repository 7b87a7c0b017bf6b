//! What every context hands the application when it starts: its routes and its background
//! work. Each context's `lib.rs` has one `start(platform, settings, …) -> Started`; its
//! messages are its `MESSAGES` constant (the catalogue is built before the platform).

use axum::Router;
pub use futures::future::BoxFuture;

/// Background work of a context, stopped at shutdown.
pub trait Worker: Send {
    /// Lets the work in hand finish, then returns.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// A context ready to serve.
pub struct Started {
    pub router: Router,
    pub workers: Vec<Box<dyn Worker>>,
}

impl Started {
    /// Routes alone, no background work.
    pub fn routes(router: Router) -> Self {
        Self {
            router,
            workers: Vec::new(),
        }
    }
}
