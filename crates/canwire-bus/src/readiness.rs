//! [`Readiness`]: the one way a producer tells its consumers "look again".
//!
//! Every queue a user waits on (a reader's frames, a watch's events, an
//! ISO-TP inbox, a bus's controller state, room in a transmit queue) owns one
//! `Readiness` beside its own state. The producer changes the state, releases
//! the state's lock, then calls [`Readiness::notify`]. Consumers wait in one
//! of two ways:
//!
//! - a thread blocks in [`Readiness::wait_until`] (a Condvar with an epoch
//!   counter, so a notify between the consumer's check and its sleep is not
//!   lost);
//! - an event loop leaves a one-shot hook with [`Readiness::arm`], which the
//!   notifying thread runs itself: a JS wait is woken with one thread hop.
//!
//! A notify may be spurious (the state changed, but not in the way a waiter
//! wants); every waiter re-checks its condition.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::sync_util::{self, lock};

/// A callback run once, on the notifying thread, after the state changed.
pub type ReadyHook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    /// Grows at every notify: a blocking waiter sleeps while it is unchanged.
    epoch: u64,
    blocking_waiters: usize,
    /// Armed hooks by the key their waiter chose; a newer hook with the same key replaces the older.
    hooks: Vec<(u64, ReadyHook)>,
}

/// Wakes blocked threads and runs armed one-shot hooks when a state changes.
#[derive(Default)]
pub struct Readiness {
    state: Mutex<State>,
    changed: Condvar,
}

impl Readiness {
    /// A readiness with nobody waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells every waiter the state changed: blocked threads wake, and every
    /// armed hook runs (on this thread, after the internal lock is released).
    /// Call it after the state's own lock is released.
    pub fn notify(&self) {
        let mut state = lock(&self.state);
        state.epoch = state.epoch.wrapping_add(1);
        if state.blocking_waiters > 0 {
            self.changed.notify_all();
        }
        if state.hooks.is_empty() {
            return;
        }
        let hooks = std::mem::take(&mut state.hooks);
        drop(state);
        for (_, hook) in hooks {
            hook();
        }
    }

    /// Leaves `hook` (under `key`) to run at the next notify, then checks
    /// `ready`: if it already holds, the hook is taken back (dropped, unless
    /// a notify ran it meanwhile) and this returns false, so the caller looks
    /// again instead of waiting. Returns true while the hook is armed.
    pub fn arm(&self, key: u64, hook: ReadyHook, ready: impl FnOnce() -> bool) -> bool {
        {
            let mut state = lock(&self.state);
            state.hooks.retain(|(k, _)| *k != key);
            state.hooks.push((key, hook));
        }
        if ready() {
            self.disarm(key);
            return false;
        }
        true
    }

    /// Drops the hook armed under `key`, if it has not run. Returns true if one was armed.
    pub fn disarm(&self, key: u64) -> bool {
        let mut state = lock(&self.state);
        let before = state.hooks.len();
        state.hooks.retain(|(k, _)| *k != key);
        before != state.hooks.len()
    }

    /// Number of hooks armed now.
    pub fn armed(&self) -> usize {
        lock(&self.state).hooks.len()
    }

    /// Blocks the calling thread until `ready` holds or `timeout` passes;
    /// returns whether it holds. `ready` is checked first, and again after
    /// each notify.
    pub fn wait_until(&self, timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let seen = lock(&self.state).epoch;
            if ready() {
                return true;
            }
            let mut state = lock(&self.state);
            state.blocking_waiters += 1;
            while state.epoch == seen {
                let left = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => Duration::from_secs(3600),
                };
                if left.is_zero() {
                    state.blocking_waiters -= 1;
                    drop(state);
                    return ready();
                }
                state = sync_util::wait_timeout(&self.changed, state, left).0;
            }
            state.blocking_waiters -= 1;
        }
    }
}

/// A value that changes now and then (a controller state), with a version
/// that grows at every change and a [`Readiness`] that tells waiters.
pub struct StateCell<T> {
    value: Mutex<(T, u64)>,
    ready: Readiness,
}

impl<T: Copy + PartialEq> StateCell<T> {
    /// A cell holding `initial` at version 0.
    pub fn new(initial: T) -> Self {
        Self {
            value: Mutex::new((initial, 0)),
            ready: Readiness::new(),
        }
    }

    /// The value and its version.
    pub fn get(&self) -> (T, u64) {
        *lock(&self.value)
    }

    /// Stores `value` and wakes waiters if it differs from the current one.
    pub fn set_if_changed(&self, value: T) -> bool {
        let changed = {
            let mut current = lock(&self.value);
            let changed = current.0 != value;
            if changed {
                *current = (value, current.1.wrapping_add(1));
            }
            changed
        };
        if changed {
            self.ready.notify();
        }
        changed
    }

    /// Stores `value` as a new version and wakes waiters, changed or not.
    pub fn replace(&self, value: T) {
        {
            let mut current = lock(&self.value);
            *current = (value, current.1.wrapping_add(1));
        }
        self.ready.notify();
    }

    /// Leaves `hook` (under `key`) to run at the next change after version
    /// `seen`, and returns true; returns false (hook dropped) if the version
    /// moved past `seen` already.
    pub fn notify_once_after(&self, seen: u64, key: u64, hook: ReadyHook) -> bool {
        self.ready.arm(key, hook, || lock(&self.value).1 != seen)
    }

    /// Drops the hook left under `key` if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.ready.disarm(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    fn counting(runs: &Arc<AtomicU32>) -> ReadyHook {
        let runs = runs.clone();
        Box::new(move || {
            runs.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn a_hook_runs_once_at_the_next_notify() {
        let r = Readiness::new();
        let runs = Arc::new(AtomicU32::new(0));
        assert!(r.arm(1, counting(&runs), || false));
        assert_eq!(r.armed(), 1);
        r.notify();
        r.notify();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(r.armed(), 0);
    }

    #[test]
    fn arming_when_ready_returns_false_and_keeps_nothing() {
        let r = Readiness::new();
        let runs = Arc::new(AtomicU32::new(0));
        assert!(!r.arm(1, counting(&runs), || true));
        assert_eq!(r.armed(), 0);
        r.notify();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn keys_replace_their_own_hook_and_disarm_only_theirs() {
        let r = Readiness::new();
        let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        assert!(r.arm(1, counting(&a), || false));
        assert!(r.arm(1, counting(&a), || false));
        assert!(r.arm(2, counting(&b), || false));
        assert_eq!(r.armed(), 2);
        assert!(r.disarm(2));
        assert!(!r.disarm(2));
        r.notify();
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 0));
    }

    #[test]
    fn a_state_cell_wakes_on_changes_after_the_version_seen() {
        let cell = StateCell::new(1u8);
        let runs = Arc::new(AtomicU32::new(0));
        let (_, seen) = cell.get();
        assert!(cell.notify_once_after(seen, 1, counting(&runs)));
        assert!(!cell.set_if_changed(1), "same value: no change");
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        assert!(cell.set_if_changed(2));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cell.get(), (2, 1));
        assert!(
            !cell.notify_once_after(seen, 1, counting(&runs)),
            "moved past 0"
        );
        assert!(cell.notify_once_after(1, 1, counting(&runs)));
        cell.replace(2);
        assert_eq!((runs.load(Ordering::SeqCst), cell.get()), (2, (2, 2)));
    }

    #[test]
    fn a_blocked_thread_wakes_on_notify_and_times_out_otherwise() {
        let r = Arc::new(Readiness::new());
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (r, flag) = (r.clone(), flag.clone());
            std::thread::spawn(move || {
                r.wait_until(Duration::from_secs(30), || flag.load(Ordering::SeqCst))
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        r.notify(); // spurious: the flag is still false
        std::thread::sleep(Duration::from_millis(20));
        flag.store(true, Ordering::SeqCst);
        r.notify();
        assert!(waiter.join().unwrap());
        let start = Instant::now();
        assert!(!r.wait_until(Duration::from_millis(30), || false));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
