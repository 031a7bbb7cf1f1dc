//! Oscillator tolerance per ISO 11898-1: the clock deviation a timing
//! survives, as the minimum over conditions on resynchronisation and phase
//! segments. Each function is one condition, with python-can's arithmetic
//! order so the figures match to the last bit.

/// Signal delay per metre of bus, in ns.
const DELAY_NS_PER_METRE: f64 = 5.0;

/// Quanta the propagation segment needs: the round trip through both
/// transceivers and the bus, rounded up to whole quanta of `tq_ns`.
pub fn propagation_quanta(node_loop_delay_ns: f64, bus_length_m: f64, tq_ns: u32) -> f64 {
    let round_trip_ns = 2.0 * (node_loop_delay_ns + DELAY_NS_PER_METRE * bus_length_m);
    (round_trip_ns / f64::from(tq_ns)).ceil()
}

/// Condition 1 (nominal) or 3 (data): resynchronisation by `sjw` every 10 bits.
pub fn resync_condition(sjw: f64, bit_time: f64) -> f64 {
    sjw / (2.0 * 10.0 * bit_time)
}

/// Condition 2: sampling after 13 bits without a resynchronising edge.
pub fn phase_condition(nbt: f64, phase_seg1: f64, phase_seg2: f64) -> f64 {
    phase_seg1.min(phase_seg2) / (2.0 * (13.0 * nbt - phase_seg2))
}

/// The nominal and data phase of an FD timing, as condition 4 and 5 use them.
#[derive(Debug, Clone, Copy)]
pub struct FdPhases {
    /// Nominal bit time in quanta.
    pub nbt: f64,
    /// Data bit time in quanta.
    pub dbt: f64,
    /// Nominal phase segment 1 (tseg1 less the propagation segment).
    pub nom_phase_seg1: f64,
    /// Nominal phase segment 2.
    pub nom_phase_seg2: f64,
    /// Data phase segment 2.
    pub data_phase_seg2: f64,
    /// Nominal prescaler.
    pub nom_brp: f64,
    /// Data prescaler.
    pub data_brp: f64,
    /// Data synchronization jump width.
    pub data_sjw: f64,
}

/// Condition 4: the switch from data phase back to the nominal phase.
pub fn fd_switch_condition(p: &FdPhases) -> f64 {
    let data_part = (6.0 * p.dbt - p.data_phase_seg2) * p.data_brp / p.nom_brp;
    p.nom_phase_seg1.min(p.nom_phase_seg2) / (2.0 * (data_part + 7.0 * p.nbt))
}

/// Condition 5: resynchronisation in the data phase after the bitrate switch.
pub fn fd_data_resync_condition(p: &FdPhases) -> f64 {
    let correctable = p.data_sjw - (p.nom_brp / p.data_brp - 1.0).max(0.0);
    let nominal_part = (2.0 * p.nbt - p.nom_phase_seg2) * p.nom_brp / p.data_brp;
    let between_resyncs = 2.0 * (nominal_part + p.data_phase_seg2 + 4.0 * p.dbt);
    correctable / between_resyncs
}

/// The smallest condition in percent, never below 0 (python-can's `max(0.0, min(...) * 100)`).
pub fn percent(conditions: &[f64]) -> f64 {
    let smallest = conditions.iter().copied().fold(f64::INFINITY, f64::min) * 100.0;
    if smallest > 0.0 { smallest } else { 0.0 }
}
