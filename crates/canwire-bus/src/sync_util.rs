//! Small helpers for the crate's locks and worker threads.

use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Locks `m`, carrying on with the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the thread out of `slot` and waits for it to end, unless the caller
/// is that thread itself (closing from its own callback). Idempotent.
pub(crate) fn join_unless_current(slot: &Mutex<Option<JoinHandle<()>>>) {
    let handle = lock(slot).take();
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}
