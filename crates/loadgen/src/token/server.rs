//! The server under load, on its own runtime and cores.

use super::*;

pub(crate) struct Server {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) db: Db,
    pub(crate) vouchers: interop::Vouchers,
    pub(crate) stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub(crate) thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl Server {
    pub(crate) fn start(
        settings: selfcare::Settings,
        data_dir: std::path::PathBuf,
        threads: usize,
        cpus: &[usize],
    ) -> Result<Server, Error> {
        Self::start_in(settings, selfcare::Mode::Demo { data_dir }, threads, cpus)
    }

    /// The app in `mode` (the demo, or `serve` on a database of one's own).
    pub(crate) fn start_in(
        settings: selfcare::Settings,
        mode: selfcare::Mode,
        threads: usize,
        cpus: &[usize],
    ) -> Result<Server, Error> {
        let cpus = cpus.to_vec();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("server".into()).spawn(
            move || -> Result<(), Error> {
                pin(&cpus);
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("server-worker")
                    .enable_all()
                    .build()?;
                let handle = runtime.handle().clone();
                runtime.block_on(async move {
                    let app = match selfcare::App::start(settings, mode).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok((
                        app.addr(),
                        handle,
                        app.platform().db.clone(),
                        app.vouchers().clone(),
                    )));
                    let _ = stop_rx.await;
                    app.stop().await?;
                    Ok(())
                })
            },
        )?;
        let (addr, runtime, db, vouchers) =
            ready_rx.recv().map_err(|_| "the server thread ended")??;
        Ok(Server {
            addr,
            runtime,
            db,
            vouchers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the server's runtime (its cores) and waits for it.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| "a task on the server's runtime failed")?
    }

    pub(crate) fn stop(mut self) -> Result<(), Error> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| "the server thread panicked")?,
            None => Ok(()),
        }
    }
}
