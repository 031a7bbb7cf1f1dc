//! [`PiMutex`]: a mutex whose holder inherits the priority of the threads
//! it blocks (Linux: a `PTHREAD_PRIO_INHERIT` pthread mutex, a PI futex).
//!
//! The cyclic scheduler's real-time thread delivers into reader queues that
//! ordinary threads (a JS worker reading a virtual bus) lock too. With a
//! plain mutex, a reader preempted while holding one makes the real-time
//! thread wait until the reader gets a CPU again, behind every other
//! ordinary thread: a send took 0.8 and 2.2 ms that way in bench:cyclic, and
//! the next pass missed a whole period. With priority inheritance the holder
//! runs at the waiter's priority until it unlocks. Uncontended, locking and
//! unlocking are one atomic operation each, as with [`std::sync::Mutex`].
//! Elsewhere this is a plain mutex.

use std::ops::{Deref, DerefMut};

#[cfg(target_os = "linux")]
mod imp {
    use std::cell::UnsafeCell;
    use std::marker::PhantomData;

    /// The lock: a pthread mutex, boxed so that it never moves once initialised.
    pub struct Raw(Box<UnsafeCell<libc::pthread_mutex_t>>);

    // SAFETY: a pthread mutex is made to be shared between threads.
    unsafe impl Send for Raw {}
    // SAFETY: as above; all access goes through the pthread calls.
    unsafe impl Sync for Raw {}

    impl Raw {
        pub fn new() -> Self {
            let raw = Box::new(UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER));
            // SAFETY: attr is initialised before use and destroyed after; the
            // mutex is initialised once, in place, before it is shared.
            unsafe {
                let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
                libc::pthread_mutexattr_init(&mut attr);
                // Where the kernel lacks PI futexes the default protocol stays.
                libc::pthread_mutexattr_setprotocol(&mut attr, libc::PTHREAD_PRIO_INHERIT);
                if libc::pthread_mutex_init(raw.get(), &attr) != 0 {
                    libc::pthread_mutex_init(raw.get(), std::ptr::null());
                }
                libc::pthread_mutexattr_destroy(&mut attr);
            }
            Self(raw)
        }

        pub fn lock(&self) -> Held<'_> {
            // SAFETY: the mutex was initialised in `new` and is not destroyed while borrowed.
            let result = unsafe { libc::pthread_mutex_lock(self.0.get()) };
            // A normal mutex locked by a thread that does not hold it cannot fail.
            assert_eq!(result, 0, "pthread_mutex_lock failed");
            Held(self, PhantomData)
        }

        #[cfg(test)]
        pub fn ptr(&self) -> *const libc::pthread_mutex_t {
            self.0.get()
        }
    }

    impl Drop for Raw {
        fn drop(&mut self) {
            // SAFETY: no guard outlives the mutex (guards borrow it).
            unsafe { libc::pthread_mutex_destroy(self.0.get()) };
        }
    }

    /// Proof of holding the lock; unlocks on drop, on the thread that locked.
    pub struct Held<'a>(&'a Raw, PhantomData<*const ()>);

    impl Drop for Held<'_> {
        fn drop(&mut self) {
            // SAFETY: this thread holds the mutex (it locked it to make this guard).
            unsafe { libc::pthread_mutex_unlock(self.0.0.get()) };
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// The lock: a plain mutex.
    pub struct Raw(std::sync::Mutex<()>);

    impl Raw {
        pub fn new() -> Self {
            Self(std::sync::Mutex::new(()))
        }

        pub fn lock(&self) -> Held<'_> {
            Held(crate::sync_util::lock(&self.0))
        }
    }

    /// Proof of holding the lock.
    pub struct Held<'a>(#[allow(dead_code)] std::sync::MutexGuard<'a, ()>);
}

/// A mutex with priority inheritance where the OS offers it (see the module docs).
pub struct PiMutex<T> {
    raw: imp::Raw,
    data: std::cell::UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which holds the lock.
unsafe impl<T: Send> Send for PiMutex<T> {}
// SAFETY: as above: one thread at a time reaches the data.
unsafe impl<T: Send> Sync for PiMutex<T> {}

impl<T: Default> Default for PiMutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> PiMutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            raw: imp::Raw::new(),
            data: std::cell::UnsafeCell::new(value),
        }
    }

    /// Locks, blocking until the lock is free (lending this thread's priority
    /// to the holder meanwhile). A panic while holding it leaves the data as it
    /// was (no poisoning: canwire's critical sections keep it consistent).
    pub fn lock(&self) -> PiMutexGuard<'_, T> {
        PiMutexGuard {
            _held: self.raw.lock(),
            data: &self.data,
        }
    }
}

/// Access to the data of a locked [`PiMutex`]; unlocks on drop.
pub struct PiMutexGuard<'a, T> {
    _held: imp::Held<'a>,
    data: &'a std::cell::UnsafeCell<T>,
}

impl<T> Deref for PiMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's lifetime.
        unsafe { &*self.data.get() }
    }
}

impl<T> DerefMut for PiMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held for the guard's lifetime, and the guard is borrowed mutably.
        unsafe { &mut *self.data.get() }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn threads_take_turns_and_every_increment_counts() {
        let counter = Arc::new(PiMutex::new(0u64));
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
        assert_eq!(*counter.lock(), 200_000);
    }

    #[test]
    fn a_waiter_blocks_until_the_holder_unlocks_and_then_sees_its_write() {
        let shared = Arc::new(PiMutex::new(Vec::<u32>::new()));
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

    #[cfg(target_os = "linux")]
    #[test]
    fn the_lock_is_a_priority_inheriting_futex() {
        // A PI futex word holds the owner's thread id while locked.
        let m = PiMutex::new(());
        let guard = m.lock();
        // SAFETY: reading the first word of the locked glibc mutex (its __lock field).
        let owner = unsafe { *(m.raw.ptr() as *const u32) };
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
        assert_eq!(owner & 0x3fff_ffff, tid);
        drop(guard);
    }
}
