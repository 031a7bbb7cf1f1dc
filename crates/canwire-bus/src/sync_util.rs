//! Small helpers for the crate's locks and worker threads.
//!
//! A panic on a thread that holds one of canwire's locks leaves data that is
//! still consistent (every critical section is a few assignments), so the
//! helpers carry on with it instead of spreading the panic to every later
//! caller, and no caller writes that policy out again.

use std::sync::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

/// Locks `m`, carrying on with the data if a panicking thread poisoned it.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Read-locks `l`, carrying on with the data if a panicking thread poisoned it.
pub fn read<T: ?Sized>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

/// Write-locks `l`, carrying on with the data if a panicking thread poisoned it.
pub fn write<T: ?Sized>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// Waits on `cv` with `guard`, carrying on with the data if a panicking thread poisoned it.
pub fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|p| p.into_inner())
}

/// Waits on `cv` at most `timeout`, carrying on if a panicking thread
/// poisoned the mutex; true if the wait timed out.
pub fn wait_timeout<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> (MutexGuard<'a, T>, bool) {
    let (guard, result) = cv
        .wait_timeout(guard, timeout)
        .unwrap_or_else(|p| p.into_inner());
    (guard, result.timed_out())
}

/// Takes the thread out of `slot` and waits for it to end, unless the caller
/// is that thread itself (closing from its own callback). Idempotent.
pub fn join_unless_current(slot: &Mutex<Option<JoinHandle<()>>>) {
    let handle = lock(slot).take();
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Runs `hold` on a thread that panics while `hold`'s guard is alive.
    fn poison<T: Send + Sync + 'static>(value: Arc<T>, hold: impl Fn(&T) + Send + 'static) {
        let _ = std::thread::spawn(move || hold(&value)).join();
    }

    #[test]
    fn a_poisoned_mutex_still_gives_its_data() {
        let m = Arc::new(Mutex::new(7));
        poison(m.clone(), |m| {
            let mut guard = lock(m);
            *guard = 8;
            panic!("poisoning the lock on purpose");
        });
        assert!(m.is_poisoned());
        assert_eq!(*lock(&m), 8);
    }

    #[test]
    fn a_poisoned_rwlock_still_gives_its_data_to_readers_and_writers() {
        let l = Arc::new(RwLock::new(vec![1u8]));
        poison(l.clone(), |l| {
            let mut guard = write(l);
            guard.push(2);
            panic!("poisoning the lock on purpose");
        });
        assert!(l.is_poisoned());
        assert_eq!(*read(&l), vec![1, 2]);
        write(&l).push(3);
        assert_eq!(*read(&l), vec![1, 2, 3]);
    }

    #[test]
    fn join_unless_current_joins_once() {
        let slot = Mutex::new(Some(std::thread::spawn(|| {})));
        join_unless_current(&slot);
        assert!(lock(&slot).is_none());
        join_unless_current(&slot);
    }
}
