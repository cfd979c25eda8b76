//! Running a server: start the engine, bind the listener, serve connections.

use std::net::SocketAddr;

use crate::engine::{DataDir, Engine};
use crate::error::{Error, ErrorKind, Result};
use crate::session::SessionFactory;
use crate::storage::StorageOptions;
use crate::sync::Arc;

/// A running server (used by the binary and by in-process tests).
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The engine.
    pub engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a server on `listen` (port 0 picks a free one) with its data in `dir`.
    /// Connections and the storage actors are served by a tokio runtime on its own
    /// threads (one worker per core).
    pub fn start(listen: SocketAddr, dir: DataDir) -> Result<Server> {
        Server::start_with_storage(listen, dir, StorageOptions::default())
    }

    /// [`Server::start`], with the storage's index kind and split size.
    pub fn start_with_storage(
        listen: SocketAddr,
        dir: DataDir,
        options: StorageOptions,
    ) -> Result<Server> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("troupe-conn")
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::IoError, format!("could not start the runtime: {e}"))
            })?;
        let engine = Engine::start_with_storage(dir, runtime.handle(), options)?;
        let listener = crate::wire::bind(listen).map_err(|e| {
            Error::new(ErrorKind::IoError, format!("could not listen on {listen}: {e}"))
        })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::new(ErrorKind::IoError, format!("could not read the listen address: {e}"))
        })?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let factory = Arc::new(SessionFactory { engine: engine.clone() });
        let thread = std::thread::Builder::new()
            .name("troupe-listener".into())
            .spawn(move || {
                runtime.block_on(crate::wire::serve(listener, factory, async move {
                    let _ = stopped.await;
                }));
                runtime.shutdown_background();
            })
            .map_err(|e| {
                Error::new(ErrorKind::IoError, format!("could not start the listener thread: {e}"))
            })?;
        Ok(Server { addr, engine, stop: Some(stop), thread: Some(thread) })
    }

    /// Blocks until the server stops (it runs until the process ends).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops accepting, closes connections, drains the WAL.
    pub fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.engine.shutdown();
    }
}
