//! Binding the listening socket: TCP, or a Unix socket created 0600 (a
//! stale socket file nobody answers on is replaced; anything else at the
//! path is refused), and the stream of accepted connections, each announced
//! to the connection hook and the log before gRPC sees it.

use std::path::{Path, PathBuf};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt as _};

use super::options::Listen;
#[cfg(unix)]
use super::uds_authority::AuthorityFix;

/// A bound listening socket.
pub enum BoundListener {
    /// TCP.
    Tcp(TcpListener),
    /// A Unix socket at a path the server removes on close.
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, PathBuf),
}

fn os_error(what: String, e: std::io::Error) -> CanwireError {
    CanwireError::new(ErrorCode::Os, format!("{what}: {e}"))
}

impl BoundListener {
    /// Binds `listen`; call inside the serving runtime's context
    /// (`Runtime::enter`), which the listener is registered with.
    pub fn bind(listen: &Listen) -> Result<Self> {
        match listen {
            Listen::Tcp(addr) => std::net::TcpListener::bind(addr)
                .and_then(|l| {
                    l.set_nonblocking(true)?;
                    TcpListener::from_std(l)
                })
                .map(BoundListener::Tcp)
                .map_err(|e| os_error(format!("cannot listen on {addr}"), e)),
            Listen::Unix(path) => bind_unix(path),
        }
    }

    /// What clients connect to: `127.0.0.1:PORT` or the socket path.
    pub fn local_address(&self) -> String {
        match self {
            BoundListener::Tcp(l) => l
                .local_addr()
                .map_or_else(|e| format!("(unknown: {e})"), |a| a.to_string()),
            #[cfg(unix)]
            BoundListener::Unix(_, path) => path.display().to_string(),
        }
    }

    /// The socket file to remove on close, if any.
    pub fn socket_path(&self) -> Option<PathBuf> {
        match self {
            BoundListener::Tcp(_) => None,
            #[cfg(unix)]
            BoundListener::Unix(_, path) => Some(path.clone()),
        }
    }
}

#[cfg(unix)]
fn bind_unix(path: &Path) -> Result<BoundListener> {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(CanwireError::invalid_argument(format!(
                "{} exists and is not a socket; choose another path",
                path.display()
            )));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(CanwireError::invalid_argument(format!(
                "{} is in use by another server",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(|e| {
            os_error(
                format!("cannot replace the stale socket {}", path.display()),
                e,
            )
        })?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)
        .and_then(|l| {
            l.set_nonblocking(true)?;
            tokio::net::UnixListener::from_std(l)
        })
        .map_err(|e| os_error(format!("cannot listen on {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| os_error(format!("cannot make {} private", path.display()), e))?;
    Ok(BoundListener::Unix(listener, path.to_owned()))
}

#[cfg(not(unix))]
fn bind_unix(_: &Path) -> Result<BoundListener> {
    Err(CanwireError::new(
        ErrorCode::Unsupported,
        "Unix sockets need a Unix system; listen on 127.0.0.1:PORT instead",
    ))
}

/// Accepted TCP connections, each announced with its peer address.
pub fn tcp_incoming(
    listener: TcpListener,
    announce: impl Fn(&str) + Send + 'static,
) -> impl Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(move |accepted| {
        if let Ok(stream) = &accepted {
            let _ = stream.set_nodelay(true);
            let peer = stream
                .peer_addr()
                .map_or_else(|_| "an unknown address".to_owned(), |a| a.to_string());
            announce(&peer);
        }
        accepted
    })
}

/// Accepted Unix connections, each announced as `unix:PATH`, with the
/// `:authority` fix gRPC C-core clients need (see [`super::uds_authority`]).
#[cfg(unix)]
pub fn unix_incoming(
    listener: tokio::net::UnixListener,
    path: &Path,
    announce: impl Fn(&str) + Send + 'static,
) -> impl Stream<Item = std::io::Result<AuthorityFix<tokio::net::UnixStream>>> {
    let name = format!("unix:{}", path.display());
    tokio_stream::wrappers::UnixListenerStream::new(listener).map(move |accepted| {
        if accepted.is_ok() {
            announce(&name);
        }
        accepted.map(AuthorityFix::new)
    })
}
