//! Record helpers exported to JS: checking a frame, parsing and formatting can-utils text.

use canwire_core::candump;
use canwire_core::record::{self, RECORD_SIZE};
use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;

use crate::error::IntoNapi;

/// Size in bytes of one packed frame record.
#[napi]
pub const RECORD_BYTES: u32 = RECORD_SIZE as u32;

/// Parses a frame in can-utils syntax (`123#DEADBEEF`) into one packed record.
#[napi(catch_unwind)]
pub fn parse_frame(text: String) -> napi::Result<Buffer> {
    let frame = candump::parse_frame(&text).into_napi()?;
    let mut out = vec![0u8; RECORD_SIZE];
    record::encode_into(&frame, &mut out);
    Ok(out.into())
}

/// Checks a frame by canwire's frame rules (the one validator:
/// `Frame::validate`); `new Message` calls it with the record's `id`,
/// `flags`, data `len` and DLC code, which the facade has coerced to fit
/// those fields. Numbers, not a record, so the call stays cheap.
#[napi(catch_unwind)]
pub fn check_frame(id: u32, flags: u32, len: u32, dlc: u32) -> napi::Result<()> {
    let (Ok(len), Ok(dlc)) = (u8::try_from(len), u8::try_from(dlc)) else {
        return Err(crate::error::invalid_argument(format!(
            "a frame's length and DLC code are bytes, got {len} and {dlc}"
        )));
    };
    let frame = canwire_core::Frame {
        id,
        flags: canwire_core::FrameFlags(flags),
        len,
        dlc,
        ..canwire_core::Frame::default()
    };
    frame.validate().into_napi()
}

/// Formats every record of a batch in can-utils syntax.
#[napi(catch_unwind)]
pub fn format_frames(records: Uint8Array) -> napi::Result<Vec<String>> {
    let frames = decode_unchecked(&records)?;
    Ok(frames.iter().map(candump::format_frame).collect())
}

/// Formats every record of a batch as a `candump -L` line, joined by newlines
/// (with a trailing newline when the batch is not empty). `channels[i]` names
/// channel index `i`.
#[napi(catch_unwind)]
pub fn format_log_lines(records: Uint8Array, channels: Vec<String>) -> napi::Result<String> {
    let frames = decode_unchecked(&records)?;
    let mut out = String::with_capacity(frames.len() * 48);
    for frame in &frames {
        let channel = channels
            .get(frame.channel as usize)
            .map(String::as_str)
            .unwrap_or("?");
        out.push_str(&candump::format_log_line(frame, channel));
        out.push('\n');
    }
    Ok(out)
}

fn decode_unchecked(records: &[u8]) -> napi::Result<Vec<canwire_core::Frame>> {
    if !records.len().is_multiple_of(RECORD_SIZE) {
        return Err(crate::error::invalid_argument(format!(
            "a record batch is a multiple of {RECORD_SIZE} bytes, got {}",
            records.len()
        )));
    }
    Ok(records
        .chunks_exact(RECORD_SIZE)
        .map(record::decode)
        .collect())
}
