//! Server-side content filters (`filtering: "server"`): the bus's exact-id
//! filters as BCM `subscribe`s, so the server sends only those ids.
//!
//! While such filters are set, the client's connection leaves raw mode for
//! BCM mode (`< bcmmode >`, where `send` still works) and subscribes to each
//! id and to every error frame (`< subscribe 0 0 3FFFFFFF >`: error frames
//! pass every filter, as on other buses); with no filters it returns to `< rawmode >` and receives everything.
//! BCM matches one id exactly, so only filters that pin one id (mask
//! 0x7FF with `extended: false`, mask 0x1FFFFFFF otherwise, not inverted,
//! not joined) can run there; others are refused with `ERR_UNSUPPORTED`.
//! canwire's software filters apply on top, as on every bus.

use canwire_core::error::Result;
use canwire_core::filter::FilterSet;
use canwire_core::{CanwireError, ErrorCode};

use crate::protocol::format;

/// One subscribed id: the id and whether it is a 29-bit one.
pub type IdKey = (u32, bool);

/// Most ids one bus subscribes to: canwire's server allows 256 jobs per
/// client by default, one of them the error frames' subscription.
pub const MAX_SUBSCRIPTIONS: usize = 255;

const SFF: u32 = 0x7FF;
const EFF: u32 = 0x1FFF_FFFF;

fn unsupported(why: String) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!(
            "socketcand's server-side filtering (filtering \"server\") {why}; open the bus without it to filter in canwire"
        ),
    )
}

/// The ids to subscribe to for `filters`; `None` for an empty set (raw mode, every frame).
pub fn subscriptions(filters: &FilterSet) -> Result<Option<Vec<IdKey>>> {
    if filters.filters().is_empty() {
        return Ok(None);
    }
    if filters.is_joined() && filters.filters().len() > 1 {
        return Err(unsupported("cannot join filters".into()));
    }
    let mut keys: Vec<IdKey> = Vec::new();
    for f in filters.filters() {
        let exact = |bits: u32| f.effective_mask() & bits == bits && f.id & !bits == 0;
        let found: Vec<IdKey> = match f.extended {
            _ if f.inverted => Vec::new(),
            Some(false) if exact(SFF) => vec![(f.id, false)],
            Some(true) if exact(EFF) => vec![(f.id, true)],
            None if exact(EFF) && f.id <= SFF => vec![(f.id, false), (f.id, true)],
            None if exact(EFF) => vec![(f.id, true)],
            _ => Vec::new(),
        };
        if found.is_empty() {
            return Err(unsupported(format!(
                "takes exact-id filters only (mask 0x7FF with extended false, or 0x1FFFFFFF; not inverted), got id 0x{:X} mask 0x{:X}{}",
                f.id,
                f.mask,
                if f.inverted { " inverted" } else { "" }
            )));
        }
        for k in found {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    if keys.len() > MAX_SUBSCRIPTIONS {
        return Err(unsupported(format!(
            "subscribes to at most {MAX_SUBSCRIPTIONS} ids, the filters name {}",
            keys.len()
        )));
    }
    Ok(Some(keys))
}

/// Every error frame: `CAN_ERR_FLAG` with all class bits (socketcand's BCM error id).
pub const ERRORS_SUBSCRIPTION: &str = "< subscribe 0 0 3FFFFFFF >";

/// `< subscribe SEC USEC ID >`: every frame of the id, at most one per `throttle_us` (0: all).
pub fn subscribe_command(key: IdKey, throttle_us: u64) -> String {
    let mut text = format!(
        "< subscribe {} {} ",
        throttle_us / 1_000_000,
        throttle_us % 1_000_000
    );
    format::push_id(&mut text, key.0, key.1);
    text.push_str(" >");
    text
}

/// `< unsubscribe ID >`.
pub fn unsubscribe_command(key: IdKey) -> String {
    let mut text = String::from("< unsubscribe ");
    format::push_id(&mut text, key.0, key.1);
    text.push_str(" >");
    text
}

/// `< filter SEC USEC ID DLC mask… >`: frames of the id whose masked bytes changed.
pub fn filter_command(key: IdKey, throttle_us: u64, mask: &[u8]) -> String {
    let mut text = format!(
        "< filter {} {} ",
        throttle_us / 1_000_000,
        throttle_us % 1_000_000
    );
    format::push_id(&mut text, key.0, key.1);
    text.push_str(&format!(" {}", mask.len()));
    for b in mask {
        text.push_str(&format!(" {b:02X}"));
    }
    text.push_str(" >");
    text
}

/// The commands that take a connection from `from` to `to` (`None`: raw mode).
pub fn transition(from: Option<&[IdKey]>, to: Option<&[IdKey]>) -> String {
    let mut text = String::new();
    match (from, to) {
        (None, None) => {}
        (Some(_), None) => text.push_str("< rawmode >"),
        (None, Some(to)) => {
            text.push_str("< bcmmode >");
            // error frames pass every filter, as on other buses
            text.push_str(ERRORS_SUBSCRIPTION);
            for k in to {
                text.push_str(&subscribe_command(*k, 0));
            }
        }
        (Some(from), Some(to)) => {
            for k in from.iter().filter(|k| !to.contains(k)) {
                text.push_str(&unsubscribe_command(*k));
            }
            for k in to.iter().filter(|k| !from.contains(k)) {
                text.push_str(&subscribe_command(*k, 0));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use canwire_core::filter::CanFilter;

    use super::*;

    fn exact(id: u32, mask: u32, extended: Option<bool>) -> CanFilter {
        CanFilter {
            extended,
            ..CanFilter::new(id, mask)
        }
    }

    #[test]
    fn exact_id_filters_become_subscriptions() {
        assert_eq!(subscriptions(&FilterSet::default()).unwrap(), None);
        let set = FilterSet::any_of(vec![
            exact(0x123, 0x7FF, Some(false)),
            exact(0x1ABC_DEF0, 0x1FFF_FFFF, Some(true)),
            exact(0x10, 0x1FFF_FFFF, None),
            exact(0x123, 0xFFFF_FFFF, Some(false)),
        ]);
        assert_eq!(
            subscriptions(&set).unwrap().unwrap(),
            [
                (0x123, false),
                (0x1ABC_DEF0, true),
                (0x10, false),
                (0x10, true)
            ]
        );
    }

    #[test]
    fn at_most_255_ids() {
        let ids =
            |n: u32| FilterSet::any_of((0..n).map(|id| exact(id, 0x7FF, Some(false))).collect());
        assert_eq!(subscriptions(&ids(255)).unwrap().unwrap().len(), 255);
        let e = subscriptions(&ids(256)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported);
        assert!(e.message.contains("at most 255 ids"), "{}", e.message);
    }

    #[test]
    fn other_filters_are_unsupported() {
        for f in [
            exact(0x100, 0x700, Some(false)),
            exact(0x123, 0x7FF, None),
            CanFilter {
                inverted: true,
                ..exact(0x123, 0x7FF, Some(false))
            },
        ] {
            let e = subscriptions(&FilterSet::any_of(vec![f])).unwrap_err();
            assert_eq!(e.code, ErrorCode::Unsupported, "{f:?}");
            assert!(e.message.contains("exact-id filters only"), "{}", e.message);
        }
    }

    #[test]
    fn commands_as_socketcand_reads_them() {
        assert_eq!(
            subscribe_command((0x123, false), 0),
            "< subscribe 0 0 123 >"
        );
        assert_eq!(
            subscribe_command((0x1ABC_DEF0, true), 1_250_000),
            "< subscribe 1 250000 1ABCDEF0 >"
        );
        assert_eq!(unsubscribe_command((0x5, true)), "< unsubscribe 00000005 >");
        assert_eq!(
            filter_command((0x123, false), 100_000, &[0xFF, 0x0F]),
            "< filter 0 100000 123 2 FF 0F >"
        );
        let a = [(0x1, false), (0x2, false)];
        let b = [(0x2, false), (0x3, false)];
        assert_eq!(
            transition(None, Some(&a)),
            "< bcmmode >< subscribe 0 0 3FFFFFFF >< subscribe 0 0 001 >< subscribe 0 0 002 >"
        );
        assert_eq!(
            transition(Some(&a), Some(&b)),
            "< unsubscribe 001 >< subscribe 0 0 003 >"
        );
        assert_eq!(transition(Some(&a), None), "< rawmode >");
        assert_eq!(transition(None, None), "");
    }
}
