//! Watching one CAN id as a sans-IO machine: content changes under a mask,
//! reception timeouts and throttled notifications, with the semantics of
//! SocketCAN's broadcast manager RX jobs (RX_SETUP), so that a watch behaves
//! the same on any bus.
//!
//! [`Watcher`] takes the frames of a bus ([`Watcher::handle_frame`]) and the
//! passing of time ([`Watcher::handle_timeout`] at [`Watcher::poll_timeout`])
//! and hands out [`WatchEvent`]s ([`Watcher::poll_event`]):
//!
//! - Without a change mask every frame of the id is an event (`Received`,
//!   BCM's RX_FILTER_ID). With one, the first frame and then every frame whose
//!   masked data bits differ from the last reported frame's are `Changed`
//!   events (the data is compared in 8-byte words up to the new frame's
//!   length, as the kernel does); with `check_dlc` a length change is one too.
//! - A timeout is armed at the start and re-armed by every frame of the id;
//!   when it runs out one `Timeout` event goes, and no other until a frame
//!   arms it again. With `announce_resume` the timeout also forgets the last
//!   frame, so the first frame after it is reported whatever its data.
//! - With a throttle time, an event closer than that to the previous one is
//!   held back; when the throttle time since the previous one ends, the
//!   latest held-back frame goes, and further events keep that pace until a
//!   throttle period passes without one.

#[cfg(test)]
mod tests;
mod watcher;

pub use watcher::{WatchConfig, WatchEvent, WatchEventKind, WatchMux, Watcher};
