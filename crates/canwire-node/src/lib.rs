//! The napi-rs addon of canwire. It converts between JS values and canwire
//! types, validates, and maps errors; the work happens in `canwire-core` and
//! `canwire-bus`. Frames cross in packed record batches (see
//! `canwire_core::record`), never one callback per frame.
//!
//! Errors reach JS with their code and details as fields (see [`error`]);
//! the TypeScript facade turns them into typed `CanError`s. Option values
//! are converted in one place, [`convert`]. Every exported function and
//! getter catches panics, so none unwinds into Node.

#![allow(missing_docs)] // the generated TypeScript declarations carry the docs

pub mod bit_timing;
pub mod bus;
pub mod controller;
pub mod convert;
pub mod cyclic;
pub mod debug_counts;
pub mod error;
pub mod exporter;
pub mod frames;
pub mod isotp;
pub mod jumpstarter_client;
pub mod logfile;
pub mod playback;
pub mod reader;
pub mod socketcan;
pub mod socketcand;
pub mod string_enums;
pub mod waker;
pub mod watch;

pub use bus::NativeBus;
pub use reader::NativeReader;
