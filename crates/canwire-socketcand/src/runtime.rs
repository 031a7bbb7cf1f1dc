//! The tokio runtime the servers and clients of this crate run on: one per
//! process, two named worker threads, started on first use.

use std::sync::LazyLock;

use tokio::runtime::{Builder, Handle, Runtime};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("canwire-socketcand")
        .enable_all()
        .build()
        .expect("the socketcand runtime's threads could not start")
});

/// The runtime's handle.
pub fn handle() -> &'static Handle {
    RUNTIME.handle()
}
