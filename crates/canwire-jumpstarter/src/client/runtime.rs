//! The tokio runtime every Jumpstarter client of the process shares: two
//! named worker threads, started on first use. Buses, stacks and their tasks
//! run on it; callers on other threads (the JS thread, the cyclic scheduler,
//! the transmit-room poller) hand it futures and wait with [`run_blocking`].

use std::future::Future;
use std::sync::OnceLock;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};
use tokio::runtime::{Builder, Runtime};

/// Worker threads of the shared runtime.
const WORKERS: usize = 2;

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, started on first use.
pub fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("canwire-jumpstarter")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            CanwireError::new(
                ErrorCode::Os,
                format!("the Jumpstarter client runtime could not start: {e}"),
            )
        })
}

/// Runs `future` on the shared runtime and waits for it on this thread.
/// Never call it from a task of that runtime (it would wait on itself):
/// there it fails with `ERR_INTERNAL` instead of hanging.
pub fn run_blocking<F>(future: F) -> Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(CanwireError::new(
            ErrorCode::Internal,
            "a blocking Jumpstarter call was made from inside the client runtime",
        ));
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().map_err(|_| {
        CanwireError::new(
            ErrorCode::Internal,
            "a Jumpstarter client task ended without an answer",
        )
    })
}
