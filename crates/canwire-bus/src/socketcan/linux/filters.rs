//! canwire filters as kernel `CAN_RAW_FILTER` entries, with the same semantics.
//!
//! A canwire filter passes `(id ^ filter.id) & mask == 0` (and the format, if
//! `extended` is given); the kernel passes `(can_id & mask) == (filter & mask)`
//! over ids that carry the EFF flag. So the id and mask keep their 29 bits, the
//! EFF flag joins the mask when the format must match (and the id when it must
//! be extended), and `CAN_INV_FILTER` marks inverted filters. Remote frames
//! pass like data frames since the RTR flag is never in the mask. Error frames
//! are governed by the error mask, not by filters, in both.

use canwire_core::FilterSet;

use super::sys::{CAN_EFF_FLAG, CAN_EFF_MASK, CAN_INV_FILTER, KernelFilter};

/// Largest number of filters the kernel takes on one socket (`CAN_RAW_FILTER_MAX`).
pub const MAX_KERNEL_FILTERS: usize = 512;

/// The kernel filters for `set`; an empty set passes everything (one all-pass filter).
pub fn kernel_filters(set: &FilterSet) -> Vec<KernelFilter> {
    if set.filters().is_empty() {
        return vec![KernelFilter {
            can_id: 0,
            can_mask: 0,
        }];
    }
    set.filters()
        .iter()
        .map(|f| {
            let mut can_id = f.id & CAN_EFF_MASK;
            let mut can_mask = f.mask & CAN_EFF_MASK;
            if let Some(extended) = f.extended {
                can_mask |= CAN_EFF_FLAG;
                if extended {
                    can_id |= CAN_EFF_FLAG;
                }
            }
            if f.inverted {
                can_id |= CAN_INV_FILTER;
            }
            KernelFilter { can_id, can_mask }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketcan::sys::{CAN_EFF_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK};
    use canwire_core::{CanFilter, Frame};

    /// A filter as the kernel stores it (net/can/af_can.c, the receive-list
    /// setup): a filter requiring SFF (EFF flag in the mask, not in the id)
    /// keeps only the 11 id bits and the EFF/RTR flags of its mask.
    fn kernel_setup(f: &KernelFilter) -> KernelFilter {
        let mut can_mask = f.can_mask;
        if can_mask & CAN_EFF_FLAG != 0 && f.can_id & CAN_EFF_FLAG == 0 {
            can_mask &= CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG;
        }
        KernelFilter {
            can_id: f.can_id,
            can_mask,
        }
    }

    /// The kernel's match rule (net/can/af_can.c), for the equivalence test.
    fn kernel_passes(filters: &[KernelFilter], join: bool, can_id: u32) -> bool {
        let one = |f: &KernelFilter| {
            let f = kernel_setup(f);
            let hit = (can_id & f.can_mask) == (f.can_id & !CAN_INV_FILTER & f.can_mask);
            hit != (f.can_id & CAN_INV_FILTER != 0)
        };
        if join {
            filters.iter().all(one)
        } else {
            filters.iter().any(one)
        }
    }

    #[test]
    fn same_verdicts_as_the_software_filters() {
        let filters = [
            CanFilter::new(0x123, 0x7FF),
            CanFilter {
                extended: Some(true),
                ..CanFilter::new(0x123, 0x7FF)
            },
            CanFilter {
                extended: Some(false),
                ..CanFilter::new(0x100, 0x700)
            },
            CanFilter {
                inverted: true,
                ..CanFilter::new(0x123, 0x7FF)
            },
            CanFilter {
                inverted: true,
                extended: Some(true),
                ..CanFilter::new(0x1234_5678, CAN_EFF_MASK)
            },
            CanFilter::new(0, 0),
            // standard-only filters with bits above 0x7FF: the kernel drops them
            CanFilter {
                extended: Some(false),
                inverted: true,
                ..CanFilter::new(0x923, 0xFFF)
            },
            CanFilter {
                extended: Some(false),
                ..CanFilter::new(0x1234_5923, 0x1FFF_FFFF)
            },
        ];
        let frames: Vec<Frame> = [0x123u32, 0x124, 0x1FF, 0x7FF, 0x0, 0x1234_5678, 0x1000_0123]
            .iter()
            .flat_map(|&id| {
                let mut out = vec![Frame::classic(id, true, &[]), Frame::remote(id, true, 1)];
                if id <= 0x7FF {
                    out.push(Frame::classic(id, false, &[]));
                    out.push(Frame::remote(id, false, 0));
                }
                out
            })
            .collect();
        for a in 0..filters.len() {
            for b in a..filters.len() {
                for join in [false, true] {
                    let chosen = vec![filters[a], filters[b]];
                    let set = if join {
                        FilterSet::all_of(chosen)
                    } else {
                        FilterSet::any_of(chosen)
                    };
                    let kernel = kernel_filters(&set);
                    for frame in &frames {
                        let mut can_id = frame.id;
                        if frame.is_extended() {
                            can_id |= CAN_EFF_FLAG;
                        }
                        if frame.is_remote() {
                            can_id |= CAN_RTR_FLAG;
                        }
                        assert_eq!(
                            kernel_passes(&kernel, join, can_id),
                            set.matches(frame),
                            "{set:?} on {frame:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn empty_set_is_one_pass_all_filter() {
        assert_eq!(
            kernel_filters(&FilterSet::default()),
            [KernelFilter {
                can_id: 0,
                can_mask: 0
            }]
        );
    }
}
