//! Acceptance filters with python-can semantics.
//!
//! A frame passes a filter when `(frame.id ^ filter.id) & filter.mask == 0`
//! and, if the filter names `extended`, the frame's format matches. An
//! inverted filter passes exactly the frames the plain filter would reject
//! (SocketCAN's `CAN_INV_FILTER`). A set passes a frame if any filter passes
//! it (or, joined, if all do: `CAN_RAW_JOIN_FILTERS`); an empty set passes
//! everything. Error frames are not subject to id filters, as on SocketCAN.
//!
//! A filter for standard frames only (`extended: Some(false)`) compares the
//! 11 id bits alone: the bits of `id` and `mask` above 0x7FF take no part,
//! as af_can's filter setup drops them from a kernel filter that requires
//! SFF (`mask &= CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG`), so the virtual
//! bus and SocketCAN pass the same frames.

use crate::frame::{Frame, STANDARD_ID_MAX};

/// One acceptance filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanFilter {
    /// Identifier bits to compare.
    pub id: u32,
    /// Which bits of the identifier take part.
    pub mask: u32,
    /// If set, the frame's format must match too.
    pub extended: Option<bool>,
    /// Pass what the plain filter rejects.
    pub inverted: bool,
}

impl CanFilter {
    /// A plain filter on `id` under `mask`, either format.
    pub const fn new(id: u32, mask: u32) -> Self {
        Self {
            id,
            mask,
            extended: None,
            inverted: false,
        }
    }

    /// The id bits that take part: `mask`, limited to 11 bits for a
    /// standard-only filter (see the module doc).
    pub const fn effective_mask(&self) -> u32 {
        match self.extended {
            Some(false) => self.mask & STANDARD_ID_MAX,
            _ => self.mask,
        }
    }

    /// Whether this filter passes `frame`.
    pub fn matches(&self, frame: &Frame) -> bool {
        let hit = (frame.id ^ self.id) & self.effective_mask() == 0
            && self.extended.is_none_or(|ext| ext == frame.is_extended());
        hit != self.inverted
    }
}

/// The filters of one bus or reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSet {
    filters: Vec<CanFilter>,
    join: bool,
}

impl FilterSet {
    /// Any filter passing a frame lets it through.
    pub fn any_of(filters: Vec<CanFilter>) -> Self {
        Self {
            filters,
            join: false,
        }
    }

    /// Every filter must pass a frame.
    pub fn all_of(filters: Vec<CanFilter>) -> Self {
        Self {
            filters,
            join: true,
        }
    }

    /// The filters in this set.
    pub fn filters(&self) -> &[CanFilter] {
        &self.filters
    }

    /// True when all filters must match (`CAN_RAW_JOIN_FILTERS`).
    pub fn is_joined(&self) -> bool {
        self.join
    }

    /// Whether the set passes `frame`.
    pub fn matches(&self, frame: &Frame) -> bool {
        if self.filters.is_empty() || frame.is_error() {
            return true;
        }
        if self.join {
            self.filters.iter().all(|f| f.matches(frame))
        } else {
            self.filters.iter().any(|f| f.matches(frame))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameFlags;

    fn std_frame(id: u32) -> Frame {
        Frame::classic(id, false, &[])
    }

    #[test]
    fn empty_set_passes_everything() {
        assert!(FilterSet::default().matches(&std_frame(0x123)));
    }

    #[test]
    fn a_standard_only_filter_ignores_id_and_mask_bits_above_11() {
        let inverted = CanFilter {
            extended: Some(false),
            inverted: true,
            ..CanFilter::new(0x923, 0xFFF)
        };
        // the kernel compares 0x123 & 0x7FF: standard 0x123 is a hit, so dropped
        assert!(!inverted.matches(&std_frame(0x123)));
        assert!(inverted.matches(&std_frame(0x124)));
        let plain = CanFilter {
            inverted: false,
            ..inverted
        };
        assert!(plain.matches(&std_frame(0x123)));
        assert_eq!(plain.effective_mask(), 0x7FF);
        // either format: all bits count
        assert!(!CanFilter::new(0x923, 0xFFF).matches(&std_frame(0x123)));
    }

    #[test]
    fn id_and_mask() {
        let set = FilterSet::any_of(vec![CanFilter::new(0x120, 0x7F0)]);
        assert!(set.matches(&std_frame(0x12F)));
        assert!(!set.matches(&std_frame(0x130)));
    }

    #[test]
    fn extended_must_match_when_given() {
        let f = CanFilter {
            extended: Some(true),
            ..CanFilter::new(0x123, 0x7FF)
        };
        let set = FilterSet::any_of(vec![f]);
        assert!(!set.matches(&std_frame(0x123)));
        assert!(set.matches(&Frame::classic(0x123, true, &[])));
    }

    #[test]
    fn inverted_passes_the_rest() {
        let f = CanFilter {
            inverted: true,
            ..CanFilter::new(0x123, 0x7FF)
        };
        let set = FilterSet::any_of(vec![f]);
        assert!(!set.matches(&std_frame(0x123)));
        assert!(set.matches(&std_frame(0x124)));
    }

    #[test]
    fn any_versus_all() {
        let filters = vec![CanFilter::new(0x100, 0x700), CanFilter::new(0x001, 0x00F)];
        assert!(FilterSet::any_of(filters.clone()).matches(&std_frame(0x102)));
        assert!(!FilterSet::all_of(filters.clone()).matches(&std_frame(0x102)));
        assert!(FilterSet::all_of(filters).matches(&std_frame(0x101)));
    }

    #[test]
    fn error_frames_bypass_id_filters() {
        let set = FilterSet::any_of(vec![CanFilter::new(0x7FF, 0x7FF)]);
        let mut err = Frame::classic(0x4, false, &[0; 8]);
        err.flags.set(FrameFlags::ERROR, true);
        assert!(set.matches(&err));
    }
}
