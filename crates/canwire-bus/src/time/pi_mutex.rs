//! [`PiMutex`]: a mutex whose holder inherits the priority of the threads
//! it blocks (Linux: the `priority-inheriting-lock` crate, a PI futex).
//!
//! The cyclic scheduler's real-time thread delivers into reader queues that
//! ordinary threads (a JS worker reading a virtual bus) lock too. With a
//! plain mutex, a reader preempted while holding one makes the real-time
//! thread wait until the reader gets a CPU again, behind every other
//! ordinary thread: a send took 0.8 and 2.2 ms that way in bench:cyclic, and
//! the next pass missed a whole period. With priority inheritance the holder
//! runs at the waiter's priority until it unlocks. Uncontended, locking and
//! unlocking are one atomic operation each, as with [`std::sync::Mutex`].
//! Elsewhere, and on a Linux kernel without PI futexes, this is a plain mutex.

use std::ops::{Deref, DerefMut};
#[cfg(target_os = "linux")]
use std::{
    mem::ManuallyDrop,
    panic::{AssertUnwindSafe, catch_unwind},
};

#[cfg(target_os = "linux")]
use priority_inheriting_lock::{PriorityInheritingLock, PriorityInheritingLockGuard};

/// A mutex with priority inheritance where the OS offers it (see the module docs).
pub struct PiMutex<T>(Lock<T>);

enum Lock<T> {
    #[cfg(target_os = "linux")]
    Pi(PriorityInheritingLock<T>),
    Plain(std::sync::Mutex<T>),
}

impl<T: Default> Default for PiMutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> PiMutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Self {
        #[cfg(target_os = "linux")]
        if pi_futexes_work() {
            return Self(Lock::Pi(PriorityInheritingLock::new(value)));
        }
        Self::plain(value)
    }

    /// A mutex holding `value`, without priority inheritance.
    fn plain(value: T) -> Self {
        Self(Lock::Plain(std::sync::Mutex::new(value)))
    }

    /// Locks, blocking until the lock is free (lending this thread's priority
    /// to the holder meanwhile). A panic while holding it leaves the data as it
    /// was (no poisoning: canwire's critical sections keep it consistent).
    pub fn lock(&self) -> PiMutexGuard<'_, T> {
        PiMutexGuard(match &self.0 {
            #[cfg(target_os = "linux")]
            Lock::Pi(m) => match catch_unwind(AssertUnwindSafe(|| m.lock())) {
                Ok(guard) => Held::Pi(ManuallyDrop::new(guard)),
                Err(_) => futex_failed("locked"),
            },
            Lock::Plain(m) => Held::Plain(crate::sync_util::lock(m)),
        })
    }
}

/// Access to the data of a locked [`PiMutex`]; unlocks on drop.
pub struct PiMutexGuard<'a, T>(Held<'a, T>);

enum Held<'a, T> {
    #[cfg(target_os = "linux")]
    Pi(ManuallyDrop<PriorityInheritingLockGuard<'a, T>>),
    Plain(std::sync::MutexGuard<'a, T>),
}

impl<T> Deref for PiMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            #[cfg(target_os = "linux")]
            Held::Pi(guard) => guard,
            Held::Plain(guard) => guard,
        }
    }
}

impl<T> DerefMut for PiMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.0 {
            #[cfg(target_os = "linux")]
            Held::Pi(guard) => guard,
            Held::Plain(guard) => guard,
        }
    }
}

impl<T> Drop for PiMutexGuard<'_, T> {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Held::Pi(guard) = &mut self.0 {
            // SAFETY: dropped once, here; the field is not used afterwards.
            let unlocked = catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(guard) }));
            if unlocked.is_err() {
                futex_failed("unlocked");
            }
        }
    }
}

/// The crate panics on a futex error other than "try again" (the lock is
/// held by this very thread, its owner died holding it, the kernel is out of
/// memory). No guard can be handed out and none can be taken back then, so
/// rather than unwind into Node (or on with unguarded data), stop the
/// process; the panic message above says which error it was.
#[cfg(target_os = "linux")]
fn futex_failed(what: &str) -> ! {
    eprintln!("canwire: a priority-inheriting lock could not be {what}; aborting");
    std::process::abort()
}

/// Whether the kernel offers PI futexes (it may be built without them): a
/// `FUTEX_TRYLOCK_PI` on a free word of our own, asked once per process.
#[cfg(target_os = "linux")]
fn pi_futexes_work() -> bool {
    static WORK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORK.get_or_init(|| {
        let word = std::sync::atomic::AtomicU32::new(0);
        // SAFETY: the futex word is live, aligned and seen by no other thread;
        // FUTEX_TRYLOCK_PI reads no other argument.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_TRYLOCK_PI | libc::FUTEX_PRIVATE_FLAG,
                0,
                std::ptr::null::<libc::timespec>(),
            )
        };
        r == 0
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn take_turns(counter: Arc<PiMutex<u64>>) -> u64 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..50_000 {
                        *counter.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        *counter.lock()
    }

    #[test]
    fn threads_take_turns_and_every_increment_counts() {
        assert_eq!(take_turns(Arc::new(PiMutex::new(0))), 200_000);
    }

    #[test]
    fn the_plain_fallback_counts_every_increment_too() {
        assert_eq!(take_turns(Arc::new(PiMutex::plain(0))), 200_000);
    }

    #[test]
    fn a_waiter_blocks_until_the_holder_unlocks_and_then_sees_its_write() {
        for shared in [PiMutex::new(Vec::<u32>::new()), PiMutex::plain(Vec::new())] {
            let shared = Arc::new(shared);
            let mut held = shared.lock();
            let waiter = {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut v = shared.lock();
                    v.push(2);
                    v.clone()
                })
            };
            std::thread::sleep(std::time::Duration::from_millis(20));
            held.push(1);
            drop(held);
            assert_eq!(waiter.join().unwrap(), [1, 2]);
        }
    }

    #[test]
    fn a_panic_while_holding_leaves_the_data_usable() {
        for shared in [PiMutex::new(vec![1u32]), PiMutex::plain(vec![1])] {
            let shared = Arc::new(shared);
            let panicked = {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut held = shared.lock();
                    held.push(2);
                    panic!("a panic while the lock is held");
                })
                .join()
            };
            assert!(panicked.is_err());
            shared.lock().push(3);
            assert_eq!(*shared.lock(), [1, 2, 3]);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_futex_error_stops_the_process_instead_of_unwinding() {
        const NAME: &str =
            "time::pi_mutex::tests::a_futex_error_stops_the_process_instead_of_unwinding";
        if std::env::var_os("CANWIRE_PI_MUTEX_CHILD").is_some() {
            // Locking it again on the holding thread: the kernel says EDEADLK.
            let m = PiMutex::new(());
            let _held = m.lock();
            let relocked = catch_unwind(AssertUnwindSafe(|| drop(m.lock())));
            println!("returned to the caller, unwound: {}", relocked.is_err());
            std::process::exit(0);
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("CANWIRE_PI_MUTEX_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&child.stdout);
        let stderr = String::from_utf8_lossy(&child.stderr);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            child.status.signal(),
            Some(libc::SIGABRT),
            "{stdout}{stderr}"
        );
        assert!(!stdout.contains("returned to the caller"), "{stdout}");
        assert!(
            stderr.contains("FUTEX_LOCK_PI: Resource deadlock avoided"),
            "{stderr}"
        );
        assert!(
            stderr.contains("a priority-inheriting lock could not be locked; aborting"),
            "{stderr}"
        );
    }

    /// Fields of `/proc/self/task/TID/FILE`, split on whitespace.
    #[cfg(target_os = "linux")]
    fn task_file(tid: i32, file: &str) -> Vec<String> {
        let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/{file}")).unwrap();
        // In `stat`, the command name (field 2, in parentheses) may hold spaces.
        let fields = text
            .rsplit_once(')')
            .map_or(text.as_str(), |(_, rest)| rest);
        fields.split_whitespace().map(str::to_owned).collect()
    }

    /// Polls `f` for up to 5 s until it is true.
    #[cfg(target_os = "linux")]
    fn eventually(mut f: impl FnMut() -> bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        false
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_lock_is_a_priority_inheriting_futex() {
        use std::sync::mpsc::channel;
        assert!(pi_futexes_work(), "this kernel has no PI futexes");
        let m = Arc::new(PiMutex::new(()));

        // An ordinary thread holds the lock until told to let go.
        let (holder_tid_tx, holder_tid) = channel();
        let (release, released) = channel::<()>();
        let (release_done, done) = channel::<()>();
        let holder = {
            let m = m.clone();
            std::thread::spawn(move || {
                let _held = m.lock();
                holder_tid_tx
                    .send(priority_inheriting_lock::gettid())
                    .unwrap();
                released.recv().unwrap();
                drop(_held);
                // Stays alive (its /proc entry readable) until told to end.
                let _ = done.recv();
            })
        };
        let holder_tid = holder_tid.recv().unwrap();
        // stat field 18 is the effective priority (PI boost included; the base
        // rt_priority and policy do not change): 20 at nice 0, -2 for SCHED_FIFO
        // priority 1. Field 3 is index 0 here.
        let priority = || task_file(holder_tid, "stat")[15].clone();
        let own_priority = priority();

        // A waiter, real-time where this process may make it so, blocks on it.
        let (waiter_tid_tx, waiter_tid) = channel();
        let waiter = {
            let m = m.clone();
            std::thread::spawn(move || {
                let param = libc::sched_param { sched_priority: 1 };
                // SAFETY: sets this thread's own policy from a valid sched_param.
                let fifo = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } == 0;
                waiter_tid_tx
                    .send((priority_inheriting_lock::gettid(), fifo))
                    .unwrap();
                drop(m.lock());
            })
        };
        let (waiter_tid, fifo) = waiter_tid.recv().unwrap();

        // The waiter sleeps in the kernel in FUTEX_LOCK_PI on the lock's word.
        let lock_pi = (libc::FUTEX_LOCK_PI | libc::FUTEX_PRIVATE_FLAG) as i64;
        let in_lock_pi = eventually(|| {
            let call = task_file(waiter_tid, "syscall");
            call.first() == Some(&libc::SYS_futex.to_string())
                && call
                    .get(2)
                    .and_then(|op| i64::from_str_radix(op.trim_start_matches("0x"), 16).ok())
                    == Some(lock_pi)
        });
        assert!(
            in_lock_pi,
            "waiter not in FUTEX_LOCK_PI: {:?}",
            task_file(waiter_tid, "syscall")
        );

        // ... and the ordinary holder now runs at its real-time priority.
        if fifo {
            assert!(
                eventually(|| priority() == "-2"),
                "holder not boosted: {}",
                priority()
            );
        } else {
            eprintln!("SCHED_FIFO not permitted here: the holder's priority boost is not checked");
        }

        release.send(()).unwrap();
        waiter.join().unwrap();
        // Unlocked, the holder is back at its own priority.
        assert!(
            eventually(|| priority() == own_priority),
            "holder still boosted: {}",
            priority()
        );
        drop(release_done);
        holder.join().unwrap();
    }
}
