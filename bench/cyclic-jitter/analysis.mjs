// The measurement of bench/cyclic-jitter: from the receive instants of one
// task's frames to its slots, its drift and its errors.
//
// Slots. Every frame carries a slot marker in data bytes 0..4 (u32 LE): the
// slot number itself (setInterval, the reference loop: ring 2^32), or the
// round-robin index of the task's `ring` messages (canwire: the native
// scheduler sends message `slot % ring`, so the marker is the slot modulo
// ring; the kernel's BCM sends its messages in turn, one per expiry). Slot
// k follows slot k-1 by the marker difference modulo ring (0 counts as a
// whole ring), plus, for a scheduler that skips late slots (`unwrapByTime`),
// whole rings while that is closer to the time gap in periods. Slots passed
// over are counted as missed.
//
// Ideal instants. ideal(n) = start + n * period, with `start` fitted: the
// median of (actual - n * period) over the task's frames, the least-absolute-
// deviations fit with the period held at nominal. So a constant latency is
// not counted as error, while drift and jitter are. error = actual - ideal.
//
// Drift. The slope of the offsets (actual - n * period) over the run, robust
// to stalls: the median offset of the task's last third of frames minus that
// of its first third, over the time between the two thirds' median slots.
// A single late wake-up near either end (a 1.5 ms stall of a shared virtual
// machine) would tilt a least-squares line over a 2 s run by hundreds of ppm
// though the deadlines never moved; that slope is kept as `driftLsqPpm`.

/** Marker span of frames that carry their slot number itself. */
export const FULL_RING = 2 ** 32;

/**
 * Slots of one task's frames.
 * @param {Float64Array|number[]} t receive instants in ns, in order
 * @param {Uint32Array|number[]} marker slot markers (data bytes 0..4)
 * @param {number} periodNs
 * @param {number} ring marker span (messages in the round robin, or FULL_RING)
 * @param {boolean} [unwrapByTime] the scheduler skips slots: use time gaps to count whole rings
 * @returns {{ slots: Float64Array, missed: number }}
 */
export function assignSlots(t, marker, periodNs, ring, unwrapByTime = true) {
  const slots = new Float64Array(t.length);
  let missed = 0;
  for (let k = 1; k < t.length; k++) {
    const gap = (t[k] - t[k - 1]) / periodNs;
    let step = (((marker[k] - marker[k - 1]) % ring) + ring) % ring;
    if (step === 0) step = ring;
    while (unwrapByTime && Math.abs(step + ring - gap) < Math.abs(step - gap)) step += ring;
    slots[k] = slots[k - 1] + step;
    missed += step - 1;
  }
  return { slots, missed };
}

/** The median of numbers (NaN when there are none). */
export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Drift and errors of one task.
 * @param {Float64Array|number[]} t receive instants in ns
 * @param {Float64Array} slots slot of each frame (from {@link assignSlots})
 * @param {number} periodNs
 * @returns {{ driftPpm: number|null, driftLsqPpm: number|null, errorsNs: Float64Array, startNs: number }}
 */
export function fitTask(t, slots, periodNs) {
  const n = t.length;
  const offsets = new Float64Array(n);
  for (let k = 0; k < n; k++) offsets[k] = t[k] - slots[k] * periodNs;
  const startNs = n ? median(offsets) : 0;
  const errorsNs = offsets.map((o) => o - startNs);
  return { driftPpm: robustDriftPpm(offsets, slots, periodNs), driftLsqPpm: leastSquaresDriftPpm(t, slots, periodNs), errorsNs, startNs };
}

/** Median offset of the last third against the first third, per ns between their median slots, in ppm. */
function robustDriftPpm(offsets, slots, periodNs) {
  const third = Math.floor(offsets.length / 3);
  if (third < 1) return null;
  const last = offsets.length - third;
  const span = (median(slots.subarray(last)) - median(slots.subarray(0, third))) * periodNs;
  if (!(span > 0)) return null;
  return ((median(offsets.subarray(last)) - median(offsets.subarray(0, third))) / span) * 1e6;
}

/** The least-squares slope of the instants against n * period, minus 1, in ppm. */
function leastSquaresDriftPpm(t, slots, periodNs) {
  const n = t.length;
  if (n < 3) return null;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < n; k++) {
    mx += slots[k] * periodNs;
    my += t[k];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    const dx = slots[k] * periodNs - mx;
    sxy += dx * (t[k] - my);
    sxx += dx * dx;
  }
  return sxx > 0 ? (sxy / sxx - 1) * 1e6 : null;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/**
 * The figures of one row from every task's frames.
 * @param {Map<number, { t: Float64Array, marker: Uint32Array }>} tasks frames by id
 * @param {number} periodNs
 * @param {number} ring marker span
 * @param {boolean} [unwrapByTime] see {@link assignSlots}
 * @returns {{ frames: number, missed: number, tasksSeen: number, driftPpm: number|null,
 *   driftMeanPpm: number|null, driftLsqPpm: number|null, p50Us: number, p99Us: number, maxUs: number }}
 *   driftPpm (robust) and driftLsqPpm are each the task with the largest |drift|, signed;
 *   errors pooled over all tasks.
 */
export function analyzeRow(tasks, periodNs, ring, unwrapByTime = true) {
  let frames = 0;
  let missed = 0;
  let worst = null;
  let worstLsq = null;
  let driftSum = 0;
  let driftCount = 0;
  const pooled = [];
  for (const { t, marker } of tasks.values()) {
    const slotted = assignSlots(t, marker, periodNs, ring, unwrapByTime);
    const fit = fitTask(t, slotted.slots, periodNs);
    frames += t.length;
    missed += slotted.missed;
    pooled.push(fit.errorsNs);
    if (fit.driftPpm !== null) {
      driftSum += fit.driftPpm;
      driftCount++;
      if (worst === null || Math.abs(fit.driftPpm) > Math.abs(worst)) worst = fit.driftPpm;
    }
    if (fit.driftLsqPpm !== null && (worstLsq === null || Math.abs(fit.driftLsqPpm) > Math.abs(worstLsq))) worstLsq = fit.driftLsqPpm;
  }
  const abs = new Float64Array(frames);
  let i = 0;
  for (const errors of pooled) for (const e of errors) abs[i++] = Math.abs(e) / 1000;
  abs.sort();
  return {
    frames,
    missed,
    tasksSeen: tasks.size,
    driftPpm: worst,
    driftMeanPpm: driftCount ? driftSum / driftCount : null,
    driftLsqPpm: worstLsq,
    p50Us: quantile(abs, 0.5),
    p99Us: quantile(abs, 0.99),
    maxUs: abs.length ? abs[abs.length - 1] : NaN,
  };
}

/**
 * Splits a row's received frames by id.
 * @param {{ ids: Uint32Array, t: Float64Array, marker: Uint32Array, count: number }} rx
 * @returns {Map<number, { t: Float64Array, marker: Uint32Array }>}
 */
export function byTask(rx) {
  const counts = new Map();
  for (let k = 0; k < rx.count; k++) counts.set(rx.ids[k], (counts.get(rx.ids[k]) ?? 0) + 1);
  const tasks = new Map();
  for (const [id, n] of counts) tasks.set(id, { t: new Float64Array(n), marker: new Uint32Array(n), n: 0 });
  for (let k = 0; k < rx.count; k++) {
    const task = tasks.get(rx.ids[k]);
    task.t[task.n] = rx.t[k];
    task.marker[task.n++] = rx.marker[k];
  }
  return tasks;
}
