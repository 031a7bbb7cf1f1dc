//! Metadata objects: APP_TEXT (65) and GLOBAL_MARKER (96).
//!
//! APP_TEXT payload: u32 source, u32 reserved, u32 text length, u32 reserved,
//! then the text. GLOBAL_MARKER payload: u32 event type, u32 foreground, u32
//! background, 3 reserved, u8 relocatable, u32 group name length, u32 marker
//! name length, u32 description length, 12 reserved (40 bytes), then the three
//! strings in that order.

use super::bytes::{put, u8_at, u32_at};
use super::can_objects::encode_raw_object;
use super::item::{AppText, BlfItem, GlobalMarker};
use super::object::object_type;

/// Decodes text bytes: UTF-8 with replacement, trailing NULs removed.
fn text(b: &[u8]) -> String {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Takes `len` bytes at `*pos` (fewer if the payload is shorter) and advances.
fn take<'a>(p: &'a [u8], pos: &mut usize, len: u32) -> &'a [u8] {
    let start = (*pos).min(p.len());
    let end = start.saturating_add(len as usize).min(p.len());
    *pos = end;
    &p[start..end]
}

/// Decodes a metadata object payload. `None` if the type is not a metadata type;
/// `Some(None)` if the payload is too short for its fixed part.
pub(crate) fn decode_event(ty: u32, p: &[u8], timestamp_ns: u64) -> Option<Option<BlfItem>> {
    let item = match ty {
        object_type::APP_TEXT => (p.len() >= 16).then(|| {
            let mut pos = 16;
            BlfItem::AppText(AppText {
                timestamp_ns,
                source: u32_at(p, 0),
                reserved: u32_at(p, 4),
                text: text(take(p, &mut pos, u32_at(p, 8))),
            })
        }),
        object_type::GLOBAL_MARKER => (p.len() >= 40).then(|| {
            let mut pos = 40;
            let group_name = text(take(p, &mut pos, u32_at(p, 16)));
            let marker_name = text(take(p, &mut pos, u32_at(p, 20)));
            let description = text(take(p, &mut pos, u32_at(p, 24)));
            BlfItem::Marker(GlobalMarker {
                timestamp_ns,
                event_type: u32_at(p, 0),
                foreground_color: u32_at(p, 4),
                background_color: u32_at(p, 8),
                relocatable: u8_at(p, 15) != 0,
                group_name,
                marker_name,
                description,
            })
        }),
        _ => return None,
    };
    Some(item)
}

/// Appends an APP_TEXT object with a timestamp `ts` relative to the file start.
pub(crate) fn encode_app_text(source: u32, text: &str, ts: u64, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut p = vec![0u8; 16 + bytes.len()];
    put(&mut p, 0, &source.to_le_bytes());
    put(&mut p, 8, &(bytes.len() as u32).to_le_bytes());
    put(&mut p, 16, bytes);
    encode_raw_object(object_type::APP_TEXT, &p, ts, out);
}

/// Appends a GLOBAL_MARKER object with a timestamp `ts` relative to the file start.
pub(crate) fn encode_marker(m: &GlobalMarker, ts: u64, out: &mut Vec<u8>) {
    let strings = [&m.group_name, &m.marker_name, &m.description];
    let total: usize = strings.iter().map(|s| s.len()).sum();
    let mut p = vec![0u8; 40 + total];
    put(&mut p, 0, &m.event_type.to_le_bytes());
    put(&mut p, 4, &m.foreground_color.to_le_bytes());
    put(&mut p, 8, &m.background_color.to_le_bytes());
    p[15] = u8::from(m.relocatable);
    let mut pos = 40;
    for (i, s) in strings.iter().enumerate() {
        put(&mut p, 16 + 4 * i, &(s.len() as u32).to_le_bytes());
        put(&mut p, pos, s.as_bytes());
        pos += s.len();
    }
    encode_raw_object(object_type::GLOBAL_MARKER, &p, ts, out);
}
