//! [`CpuPin`]: keeps the ISO-TP thread on one CPU while a transfer's frames
//! are leaving, so that the kernel delivers them in the order they were sent.
//!
//! On an interface without its own echo (vcan as `ip link add ... type vcan`
//! makes it, echo=0) the CAN core hands each sent frame to local sockets with
//! `netif_rx` on the CPU that sent it, into that CPU's backlog. When the
//! sending thread moves to another CPU between two sends (after a wait for
//! room, or a reschedule inside `sendmmsg`) and the first CPU's softirq is
//! late (a loaded machine), the later frame reaches receivers first: a
//! consecutive frame with the wrong sequence number, and the receiver drops
//! the payload. Seen on a 2-CPU guest under load (`__test__/kernel/isotp-shaped.spec.ts`);
//! the kernel's own can-isotp never has two frames in flight, so it cannot
//! be reordered this way. Sends from one CPU enter one backlog, in order.

/// Pins the calling thread to the CPU it runs on until [`CpuPin::release`]
/// (or drop), restoring its former CPU set then. Does nothing off Linux or
/// where the calls fail (a pin is an ordering aid, never a requirement).
#[derive(Default)]
pub struct CpuPin {
    #[cfg(target_os = "linux")]
    saved: Option<libc::cpu_set_t>,
}

impl CpuPin {
    /// Pins the thread to its current CPU, unless it is pinned already.
    #[cfg(target_os = "linux")]
    pub fn hold(&mut self) {
        if self.saved.is_some() {
            return;
        }
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: sched_getcpu takes no arguments.
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu < 0 {
            return;
        }
        // SAFETY: cpu_set_t is plain data for which zero is valid; the calls
        // get its true size and a pointer to a live value; pid 0 is this thread.
        unsafe {
            let mut former: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, size, &mut former) != 0 {
                return;
            }
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            if libc::sched_setaffinity(0, size, &one) == 0 {
                self.saved = Some(former);
            }
        }
    }

    /// Lets the thread run on its former CPUs again.
    #[cfg(target_os = "linux")]
    pub fn release(&mut self) {
        if let Some(former) = self.saved.take() {
            // SAFETY: `former` is a live cpu_set_t of the size given; pid 0 is this thread.
            unsafe {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &former);
            }
        }
    }

    /// True while the thread is pinned.
    #[cfg(target_os = "linux")]
    pub fn is_held(&self) -> bool {
        self.saved.is_some()
    }

    /// Off Linux the kernel's CAN loopback does not exist: nothing to hold.
    #[cfg(not(target_os = "linux"))]
    pub fn hold(&mut self) {}

    /// Off Linux: nothing to release.
    #[cfg(not(target_os = "linux"))]
    pub fn release(&mut self) {}

    /// Off Linux: never pinned.
    #[cfg(not(target_os = "linux"))]
    pub fn is_held(&self) -> bool {
        false
    }
}

impl Drop for CpuPin {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn allowed_cpus() -> usize {
        // SAFETY: as in CpuPin::hold.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            libc::CPU_COUNT(&set) as usize
        }
    }

    #[test]
    fn a_pin_narrows_the_thread_to_one_cpu_and_restores_its_set() {
        std::thread::spawn(|| {
            let before = allowed_cpus();
            let mut pin = CpuPin::default();
            pin.hold();
            assert!(pin.is_held());
            assert_eq!(allowed_cpus(), 1);
            pin.hold(); // idempotent
            pin.release();
            assert!(!pin.is_held());
            assert_eq!(allowed_cpus(), before);
        })
        .join()
        .unwrap();
    }
}
