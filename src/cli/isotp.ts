/**
 * `canwire isotp send|recv`: ISO-TP payloads as hex, like can-utils'
 * isotpsend and isotprecv.
 *
 * @module
 * @internal
 */
import { IsoTp } from "../isotp.js";
import type { IsoTpAddressConfig, IsoTpAddressingMode, IsoTpParams } from "../isotp-config.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, number, parse, UsageError } from "./args.js";
import { writeOut } from "./output.js";

export const isotpUsage = `usage: canwire isotp send [OPTIONS] [HEX...]
       canwire isotp recv [OPTIONS] [-n COUNT] [--timeout-ms MS]

send: sends each HEX argument as one payload (bytes as "22F190", "22 F1 90"
      or "22:F1:90"); without HEX, each non-empty line of stdin is a payload.
      Exits once every transfer is complete (0) or one failed (1).
recv: prints each received payload as one line of hex bytes ("62 F1 90").

Addressing (hex ids and bytes):
      --txid ID --rxid ID      ids of sent and received frames
      --mode MODE              Normal_11bits (default), Normal_29bits, NormalFixed_29bits,
                               Extended_11bits, Extended_29bits, Mixed_11bits, Mixed_29bits
      --target-address XX --source-address XX --address-extension XX
      --functional             send to the functional address (single frames only)
Parameters:
      --stack userspace|kernel ISO-TP implementation (default userspace); kernel is
                               Linux can-isotp on the SocketCAN interface -c (-i defaults
                               to socketcan)
      --frame-txtime-ns NS     kernel stack: pause after each frame (default 0)
      --tx-dl N                TX_DL, 8 or with --fd 12..64 (default 8)
  -p, --padding XX             pad frames with this byte
      --stmin N                STmin asked of the sender (0..127 ms, 0xF1..0xF9 = 100..900 us)
      --blocksize N            block size asked of the sender (default 8)
      --max-frame-size N       largest payload accepted (default 4095)
  -n, --count COUNT            recv: exit after COUNT payloads
      --timeout-ms MS          send: fail after MS per transfer; recv: exit after MS without a payload
${busOptionHelp}`;

function hexNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{1,8}$/.test(clean)) throw new UsageError(`${name} takes a hex value, got '${text}'`);
  return parseInt(clean, 16);
}

/** Parses "22F190", "22 F1 90" or "22:F1:90". */
export function parseHexPayload(text: string): Uint8Array {
  const clean = text.replace(/[\s:.-]/g, "");
  if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(clean)) {
    throw new UsageError(`'${text}' is not a payload: give pairs of hex digits`);
  }
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** Formats a payload as isotprecv does: hex bytes separated by spaces. */
export function formatHexPayload(payload: Uint8Array): string {
  return Array.from(payload, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

async function readStdinPayloads(): Promise<Uint8Array[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map(parseHexPayload);
}

/** Runs `canwire isotp`. */
export async function isotp(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === "--help" || action === "-h") {
    console.log(isotpUsage);
    return 0;
  }
  if (action !== "send" && action !== "recv") throw new UsageError("the first argument is 'send' or 'recv'");
  const spec = {
    ...busOptionSpec,
    interface: { type: "string", short: "i" },
    txid: { type: "string" },
    rxid: { type: "string" },
    mode: { type: "string" },
    "target-address": { type: "string" },
    "source-address": { type: "string" },
    "address-extension": { type: "string" },
    functional: { type: "boolean", default: false },
    stack: { type: "string", default: "userspace" },
    "frame-txtime-ns": { type: "string" },
    "tx-dl": { type: "string" },
    padding: { type: "string", short: "p" },
    stmin: { type: "string" },
    blocksize: { type: "string" },
    "max-frame-size": { type: "string" },
    count: { type: "string", short: "n" },
    "timeout-ms": { type: "string" },
  } as const;
  const { values, positionals } = parse(rest, spec, action === "send");
  if (values.help) {
    console.log(isotpUsage);
    return 0;
  }
  const address: IsoTpAddressConfig = {};
  if (values.mode !== undefined) address.mode = values.mode as IsoTpAddressingMode;
  const fields = [
    ["txid", "--txid", "txid"],
    ["rxid", "--rxid", "rxid"],
    ["targetAddress", "--target-address", "target-address"],
    ["sourceAddress", "--source-address", "source-address"],
    ["addressExtension", "--address-extension", "address-extension"],
  ] as const;
  for (const [key, flag, value] of fields) {
    const parsed = hexNumber(flag, values[value]);
    if (parsed !== undefined) address[key] = parsed;
  }
  const params: IsoTpParams = { canFd: values.fd, blockingSend: true };
  if (values["tx-dl"] !== undefined) params.txDataLength = integer("--tx-dl", values["tx-dl"], 8);
  if (values.padding !== undefined) params.txPadding = hexNumber("--padding", values.padding);
  if (values.stmin !== undefined) params.stmin = integer("--stmin", values.stmin, 0);
  if (values.blocksize !== undefined) params.blocksize = integer("--blocksize", values.blocksize, 8);
  if (values["max-frame-size"] !== undefined) params.maxFrameSize = integer("--max-frame-size", values["max-frame-size"], 4095);
  const timeoutMs = values["timeout-ms"] === undefined ? undefined : number("--timeout-ms", values["timeout-ms"], 0);
  if (values.stack !== "userspace" && values.stack !== "kernel") {
    throw new UsageError(`--stack is userspace or kernel, got '${values.stack}'`);
  }
  const payloads = action === "send" ? (positionals.length > 0 ? positionals.map(parseHexPayload) : await readStdinPayloads()) : [];

  const kernel = values.stack === "kernel";
  const bus = busOptions({ ...values, interface: values.interface ?? (kernel ? "socketcan" : "virtual") });
  const options: Parameters<typeof IsoTp.open>[0] = { address, params, stack: values.stack };
  if (values["frame-txtime-ns"] !== undefined) {
    if (!kernel) throw new UsageError("--frame-txtime-ns applies to --stack kernel only");
    options.kernel = { frameTxtimeNs: integer("--frame-txtime-ns", values["frame-txtime-ns"], 0) };
  }
  if (bus.interface !== undefined) options.interface = bus.interface;
  if (bus.channel !== undefined) options.channel = bus.channel;
  await using tp = await IsoTp.open(options);
  if (action === "send") {
    for (const payload of payloads) {
      const sendOptions: Parameters<IsoTp["send"]>[1] = { targetAddressType: values.functional ? "functional" : "physical" };
      if (timeoutMs !== undefined) sendOptions.sendTimeoutMs = timeoutMs;
      await tp.send(payload, sendOptions);
    }
    return 0;
  }
  const count = integer("--count", values.count, Infinity);
  let stop = false;
  const onSignal = () => {
    stop = true;
    void tp.close();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (let received = 0; received < count && !stop; received++) {
      const payload = await tp.recv(timeoutMs === undefined ? {} : { timeoutMs }).catch((e: { code?: string }) => {
        if (e.code === "ERR_CLOSED") return null;
        throw e;
      });
      if (!payload || !(await writeOut(`${formatHexPayload(payload)}\n`))) break;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
