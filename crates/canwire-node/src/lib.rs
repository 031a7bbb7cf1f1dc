//! The napi-rs addon of canwire. It converts between JS values and canwire
//! types, validates, and maps errors; the work happens in `canwire-core` and
//! `canwire-bus`. Frames cross in packed record batches (see
//! `canwire_core::record`), never one callback per frame.
//!
//! Errors reach JS as `Error`s whose message is `"ERR_CODE: explanation"`;
//! the TypeScript facade turns them into typed `CanError`s. Every exported
//! function catches panics, so none unwinds into Node.

#![allow(missing_docs)] // the generated TypeScript declarations carry the docs

pub mod bus;
pub mod cyclic;
pub mod debug_counts;
pub mod error;
pub mod frames;
pub mod isotp;
pub mod logfile;
pub mod playback;
pub mod reader;
pub mod socketcan;
pub mod waker;
pub mod watch;

pub use bus::NativeBus;
pub use reader::NativeReader;
