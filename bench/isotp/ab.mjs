// bench/isotp/ab.mjs: A/B of the userspace ISO-TP driver's benchmark
// switches against the kernel's can-isotp, in interleaved rounds (the order
// of the variants rotates from round to round), in the qemu guest:
//
//   scripts/socketcan-vm.sh -- env AB_VARIANTS=kernel,def,w8,nopin AB_BUSES=classic-1M,unshaped node bench/isotp/ab.mjs
//
// A variant is "kernel", or "-"-joined switches of the userspace stack
// ("def" for none): wN sets CANWIRE_ISOTP_ECHO_WINDOW=N (sends paced by
// their echoes with a window of N frames; w0: paced on sends), nopin sets
// CANWIRE_ISOTP_CPU_PIN=0. These switches exist for
// this benchmark only. AB_BUSES: the shaped buses of wire.mjs and
// "unshaped" (vcan0); AB_SIZES (4095,65536), AB_ROUNDS (3), AB_SECONDS
// (0.4). Prints per case the median bytes/s and the median ratio to the
// kernel of the same round, with every round's ratio.
import { measureCanwire } from "./stacks.mjs";
import { BUSES, ensureEchoingVcan, shape, unshape } from "./wire.mjs";

const variants = (process.env.AB_VARIANTS ?? "kernel,w0,w1,w4,w8,w14").split(",");
const buses = (process.env.AB_BUSES ?? "classic-500k,classic-1M").split(",");
const sizes = (process.env.AB_SIZES ?? "4095,65536").split(",").map(Number);
const rounds = Number(process.env.AB_ROUNDS ?? 3);
const seconds = Number(process.env.AB_SECONDS ?? 0.4);
const why = ensureEchoingVcan();
if (why) console.log("no echo:", why);
const results = {};
for (const busName of buses) {
  const unshaped = busName === "unshaped";
  const bus = unshaped ? { fd: false } : BUSES.find((b) => b.name === busName);
  if (!unshaped) shape(bus);
  const channel = unshaped ? "vcan0" : "vcan2";
  for (let r = 0; r < rounds; r++) {
    for (const size of sizes) {
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(k + r) % variants.length];
        const parts = v.split("-");
        delete process.env.CANWIRE_ISOTP_ECHO_WINDOW;
        process.env.CANWIRE_ISOTP_CPU_PIN = parts.includes("nopin") ? "0" : "1";
        for (const p of parts) {
          if (/^w\d+$/.test(p)) process.env.CANWIRE_ISOTP_ECHO_WINDOW = p.slice(1);
        }
        const res = await measureCanwire(v === "kernel" ? "kernel" : "userspace", { channel, size, fd: bus.fd, seconds });
        const key = `${busName} ${size} ${v}`;
        if (!results[key]) results[key] = [];
        results[key].push(res.bytesPerSecond ?? Number.NaN);
        if (res.error) console.log(key, "ERROR", res.error);
      }
    }
  }
  if (!unshaped) unshape();
}
const med = (a) => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
};
for (const [key, vals] of Object.entries(results)) {
  const [b, s] = key.split(" ");
  const k = results[`${b} ${s} kernel`];
  const ratios = vals.map((v, i) => v / (k?.[i] ?? NaN));
  console.log(
    `${key.padEnd(30)} ${Math.round(med(vals)).toString().padStart(8)} B/s  vsK ${med(ratios).toFixed(2)} [${ratios.map((x) => x.toFixed(2)).join(" ")}]`,
  );
}
