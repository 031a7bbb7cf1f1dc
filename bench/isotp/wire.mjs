// Buses with a real frame rate for bench/isotp: vcan2 with a token bucket
// (tc ... tbf) on its transmit queue, shaped to the frame rate of a real
// CAN bus, and a raw counter that checks the rate holds.
//
// Frame rate: one full frame of the worst-case length, back to back.
//   classic, 11-bit id, 8 data bytes (n = 8), every stuff bit:
//     bits = 8n + 47 + floor((34 + 8n - 1) / 4) = 64 + 47 + 24 = 135
//   CAN FD, 11-bit id, 64 data bytes, bit-rate switch, every stuff bit:
//     nominal rate: SOF..BRS 17 + 4 stuff, CRC delimiter, ACK 2, EOF 7, IFS 3 = 34
//     data rate: ESI + DLC 5 + data 512 + 129 dynamic stuff + stuff count and
//                CRC-21 25 + 7 fixed stuff = 678
//     seconds = 34 / nominal + 678 / data (nominal 500 kbit/s)
//   fps = 1 / seconds.
//
// vcan hands tbf the struct it carries: 16 bytes (struct can_frame) per
// classic frame, 72 (struct canfd_frame) per FD frame, so the rate is
// fps x 16 (or 72) bytes/s.
//
// vcan must echo (module parameter echo=1, the ECHO flag): without it the
// CAN core loops a sent frame back to local sockets when it is queued, not
// when it leaves the qdisc, so receivers on the same machine would see the
// frames before the shaping; the kernel's can-isotp, which sends its next
// consecutive frame when the echo of the last one arrives, would flood the
// queue and lose frames (ENOBUFS). A real can-dev echoes on transmit-complete,
// which echo=1 models. In canwire's qemu guest (scripts/socketcan-vm.sh) the
// bench reloads vcan with echo=1; elsewhere it expects it so and skips the
// shaped rows otherwise.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { Bus } from "../../dist/index.js";

export const SHAPED_CHANNEL = "vcan2";

const CLASSIC_BITS = 8 * 8 + 47 + Math.floor((34 + 8 * 8 - 1) / 4);
const FD_NOMINAL_BITS = 34;
const FD_DATA_BITS = 678;
const NOMINAL_FD = 500_000;

/** The shaped buses: name, FD or not, frames per second of a full frame. */
export const BUSES = [
  { name: "classic-500k", fd: false, fps: 500_000 / CLASSIC_BITS },
  { name: "classic-1M", fd: false, fps: 1_000_000 / CLASSIC_BITS },
  { name: "fd-2M", fd: true, fps: 1 / (FD_NOMINAL_BITS / NOMINAL_FD + FD_DATA_BITS / 2_000_000) },
  { name: "fd-5M", fd: true, fps: 1 / (FD_NOMINAL_BITS / NOMINAL_FD + FD_DATA_BITS / 5_000_000) },
];

export const FORMULA =
  "classic 8 B: 135 bits (8n + 47 + floor((34 + 8n - 1)/4), n = 8); FD 64 B with BRS: 34 bits at 500 kbit/s + 678 at the data rate; fps = bitrate / bits; tbf rate = fps x 16 B (classic) or 72 B (FD)";

/** Token bucket depth and queue length, in frames (env ISOTP_TBF_BURST / ISOTP_TBF_LIMIT). */
const BURST_FRAMES = Number(process.env.ISOTP_TBF_BURST ?? 4);
const LIMIT_FRAMES = Number(process.env.ISOTP_TBF_LIMIT ?? 16);

const frameBytes = (fd) => (fd ? 72 : 16);

/** The tc arguments that shape SHAPED_CHANNEL to `bus`. */
export function tbfArgs(bus) {
  const bytes = frameBytes(bus.fd);
  return [
    "qdisc",
    "replace",
    "dev",
    SHAPED_CHANNEL,
    "root",
    "tbf",
    "rate",
    `${Math.round(bus.fps * bytes * 8)}bit`,
    "burst",
    String(BURST_FRAMES * bytes),
    "limit",
    String(LIMIT_FRAMES * bytes),
  ];
}

export function shape(bus) {
  execFileSync("tc", tbfArgs(bus));
}

export function unshape() {
  execFileSync("tc", ["qdisc", "del", "dev", SHAPED_CHANNEL, "root"], { stdio: "ignore" });
}

const IFF_ECHO = 0x40000;

function echoes(channel) {
  try {
    return (Number(readFileSync(`/sys/class/net/${channel}/flags`, "utf8").trim()) & IFF_ECHO) !== 0;
  } catch {
    return false;
  }
}

const inCanwireGuest = () => existsSync("/proc/cmdline") && readFileSync("/proc/cmdline", "utf8").includes("canwire_dir=");

/**
 * Makes vcan echo (see the head of this file). Returns null when it does, or
 * why the shaped rows cannot run. Only in canwire's guest does it reload the
 * module (vcan0..2 are deleted and made again, as the guest's init made them);
 * the module file is in the initramfs, which is PID 1's root there.
 */
export function ensureEchoingVcan() {
  if (echoes(SHAPED_CHANNEL)) return null;
  if (!inCanwireGuest()) return `${SHAPED_CHANNEL} does not echo: load vcan with echo=1 (modprobe vcan echo=1) for the shaped rows`;
  const sh = (cmd) => execFileSync("sh", ["-c", cmd], { stdio: ["ignore", "ignore", "pipe"] });
  sh("for i in 0 1 2; do ip link del vcan$i 2>/dev/null; done; rmmod vcan");
  sh("insmod /proc/1/root/mods/vcan.ko echo=1");
  sh("for i in 0 1 2; do ip link add dev vcan$i type vcan && ip link set vcan$i mtu 72 && ip link set vcan$i up; done");
  return echoes(SHAPED_CHANNEL) ? null : `reloading vcan with echo=1 did not set ECHO on ${SHAPED_CHANNEL}`;
}

const txPackets = () => Number(readFileSync(`/sys/class/net/${SHAPED_CHANNEL}/statistics/tx_packets`, "utf8"));

/**
 * The rate the shaping holds: a canwire bus keeps the queue full (sendBatch
 * waits for room on ENOBUFS) for about `seconds`; the interface's own
 * tx_packets counter, read after a quarter of that and near the end, gives
 * frames per second.
 */
export async function measureShapedRate(bus, seconds = 1.2) {
  const tx = await Bus.open({ interface: "socketcan", channel: SHAPED_CHANNEL, fd: bus.fd });
  try {
    const count = Math.ceil(bus.fps * seconds);
    const data = new Array(bus.fd ? 64 : 8).fill(0x55);
    const frames = Array.from({ length: count }, (_, i) => ({ id: 0x100 + (i & 0xff), data, fd: bus.fd, bitrateSwitch: bus.fd }));
    const sending = tx.sendBatch(frames, { timeoutMs: seconds * 10_000 });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    await sleep((seconds * 1000) / 4);
    const a = txPackets();
    const t0 = performance.now();
    await sleep((seconds * 1000) / 2);
    const b = txPackets();
    const t1 = performance.now();
    await sending;
    const measured = ((b - a) * 1000) / (t1 - t0);
    return { targetFps: bus.fps, measuredFps: measured, ratio: measured / bus.fps };
  } finally {
    await tx.close();
  }
}
