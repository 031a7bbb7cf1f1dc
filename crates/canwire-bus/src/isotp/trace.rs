//! An opt-in trace of the ISO-TP driver thread, for finding where a transfer
//! spends its time: set `CANWIRE_ISOTP_TRACE=1` and each stack prints one
//! line of figures to stderr when it closes. Off by default (one branch per
//! wake-up).
//!
//! Latencies start at the kernel's receive timestamp of a frame (the bus's
//! wall clock), so they include the hop through the bus's receive thread.

use std::time::Instant;

use canwire_core::Frame;

use crate::clock::realtime_ns;

/// A running sum with a maximum.
#[derive(Default)]
struct Stat {
    count: u64,
    sum: u64,
    max: u64,
}

impl Stat {
    fn add(&mut self, value: u64) {
        self.count += 1;
        self.sum += value;
        self.max = self.max.max(value);
    }

    fn json(&self) -> String {
        let mean = self.sum.checked_div(self.count).unwrap_or(0);
        format!(
            "{{\"n\":{},\"mean\":{mean},\"max\":{}}}",
            self.count, self.max
        )
    }
}

/// The PCI type of a normally addressed ISO-TP frame (first byte, high nibble).
fn pci_type(frame: &Frame) -> u8 {
    frame.data().first().map_or(0xF, |b| b >> 4)
}

/// Figures of one driver thread.
pub struct DriverTrace {
    wakeups: u64,
    idle_wakeups: u64,
    frames_per_wakeup: Stat,
    /// Kernel receive timestamp to the driver taking the frame, ns.
    rx_to_driver_ns: Stat,
    /// A flow control frame's receive timestamp to the first CF's send returning, ns.
    fc_to_cf_ns: Stat,
    /// A first frame's receive timestamp to our flow control's send returning, ns.
    ff_to_fc_ns: Stat,
    frames_per_send: Stat,
    send_call_ns: Stat,
    tx_waits: Stat,
    pending_fc: Option<u64>,
    pending_ff: Option<u64>,
    /// `CANWIRE_ISOTP_TRACE=timeline`: one line per FF/FC/last-CF event too.
    timeline: bool,
}

/// Prints one timeline event (wall clock, ns).
fn event(what: &str, detail: std::fmt::Arguments<'_>) {
    eprintln!("canwire-isotp-event {} {what} {detail}", realtime_ns());
}

impl DriverTrace {
    /// A trace when `CANWIRE_ISOTP_TRACE` is set to a non-empty value other than 0.
    pub fn from_env() -> Option<Self> {
        let value = std::env::var("CANWIRE_ISOTP_TRACE").unwrap_or_default();
        let on = !value.is_empty() && value != "0";
        on.then(|| Self {
            timeline: value == "timeline",
            wakeups: 0,
            idle_wakeups: 0,
            frames_per_wakeup: Stat::default(),
            rx_to_driver_ns: Stat::default(),
            fc_to_cf_ns: Stat::default(),
            ff_to_fc_ns: Stat::default(),
            frames_per_send: Stat::default(),
            send_call_ns: Stat::default(),
            tx_waits: Stat::default(),
            pending_fc: None,
            pending_ff: None,
        })
    }

    /// The thread took `frames` from its reader.
    pub fn took(&mut self, frames: &[Frame]) {
        self.wakeups += 1;
        if frames.is_empty() {
            self.idle_wakeups += 1;
            return;
        }
        self.frames_per_wakeup.add(frames.len() as u64);
        let now = realtime_ns();
        for frame in frames {
            self.rx_to_driver_ns
                .add(now.saturating_sub(frame.timestamp_ns));
            let pci = pci_type(frame);
            match pci {
                1 => self.pending_ff = Some(frame.timestamp_ns),
                3 => self.pending_fc = Some(frame.timestamp_ns),
                _ => {}
            }
            if self.timeline && pci != 2 {
                event(
                    "took",
                    format_args!("pci={pci} stamped={}", frame.timestamp_ns),
                );
            }
        }
    }

    /// One `send` call of the bus returned after `elapsed`, having taken `frames` of `first`.
    pub fn sent(&mut self, first: Option<&Frame>, frames: usize, started: Instant) {
        self.send_call_ns.add(started.elapsed().as_nanos() as u64);
        self.frames_per_send.add(frames as u64);
        let now = realtime_ns();
        if self.timeline {
            let pci = first.map_or(0xF, pci_type);
            event("sent", format_args!("pci={pci} frames={frames}"));
        }
        match first.map(pci_type) {
            Some(2) => {
                if let Some(at) = self.pending_fc.take() {
                    self.fc_to_cf_ns.add(now.saturating_sub(at));
                }
            }
            Some(3) => {
                if let Some(at) = self.pending_ff.take() {
                    self.ff_to_fc_ns.add(now.saturating_sub(at));
                }
            }
            _ => {}
        }
    }

    /// The driver handed an event to its users.
    pub fn dispatched(&self, what: &str) {
        if self.timeline {
            event("dispatched", format_args!("{what}"));
        }
    }

    /// The bus's transmit queue was full; the wait for room took `started.elapsed()`.
    pub fn waited(&mut self, started: Instant) {
        self.tx_waits.add(started.elapsed().as_nanos() as u64);
    }

    /// Prints the figures to stderr.
    pub fn print(&self) {
        eprintln!(
            "canwire-isotp-trace {{\"wakeups\":{},\"idleWakeups\":{},\"framesPerWakeup\":{},\"rxToDriverNs\":{},\"ffToFcNs\":{},\"fcToCfNs\":{},\"framesPerSend\":{},\"sendCallNs\":{},\"txWaitNs\":{}}}",
            self.wakeups,
            self.idle_wakeups,
            self.frames_per_wakeup.json(),
            self.rx_to_driver_ns.json(),
            self.ff_to_fc_ns.json(),
            self.fc_to_cf_ns.json(),
            self.frames_per_send.json(),
            self.send_call_ns.json(),
            self.tx_waits.json(),
        );
    }
}
