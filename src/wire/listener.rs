//! The listening socket and the accept loop: one tokio task per connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::cancel::CancelSignal;
use super::connection;
use super::Backend;

/// Pending connections the kernel may queue. tokio's default of 128 drops connections
/// when 512 pgbench clients connect at once. (Linux caps it at `net.core.somaxconn`.)
const BACKLOG: i32 = 4096;

/// Pause after a failed `accept` (e.g. out of file descriptors), so that the loop does
/// not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Makes one [`Backend`] per accepted connection.
pub trait BackendFactory: Send + Sync + 'static {
    /// The session type.
    type Backend: Backend + 'static;

    /// A new session for the connection with process id `pid`. `cancel` is set when a
    /// CancelRequest quoting this session's key arrives on another connection.
    fn session(&self, pid: i32, cancel: CancelSignal) -> Self::Backend;
}

/// A listening socket made with socket2: SO_REUSEADDR, backlog 4096, nonblocking,
/// ready for [`serve`].
pub fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Accept loop: one tokio task per connection, TCP_NODELAY on each socket. Returns when
/// `shutdown` resolves; connections already accepted keep running. Must be called
/// inside a tokio runtime.
pub async fn serve<F: BackendFactory>(
    listener: std::net::TcpListener,
    factory: Arc<F>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen: {e}");
            return;
        }
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, "TCP_NODELAY failed: {e}");
                    }
                    tokio::spawn(connection::run(stream, Arc::clone(&factory)));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
        }
    }
}
