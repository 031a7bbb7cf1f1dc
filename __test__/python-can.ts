/**
 * Runs a snippet of Python against python-can 4.6 in the peers' venv
 * (`target/py-peers`), for specs that compare canwire's output with
 * python-can's for the same input. The snippet reads its input as JSON from
 * the variable `data` and sets `result`, which comes back parsed.
 */
import { spawnSync } from "node:child_process";
import { peerEnvironment, pythonPeers } from "./peers/index.js";

/** The JSON `result` the Python `code` computes from `data`; throws with Python's stderr when it fails. */
export function runPythonCan(code: string, data: unknown, env: NodeJS.ProcessEnv = peerEnvironment()): unknown {
  const program = `import json, sys\ndata = json.load(sys.stdin)\n${code}\nprint(json.dumps(result))\n`;
  const run = spawnSync(pythonPeers().python, ["-c", program], {
    input: JSON.stringify(data),
    encoding: "utf8",
    env,
    timeout: 20_000,
  });
  if (run.status !== 0) throw new Error(`python failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Every field of a python-can `Message` the log formats hold, as python-can reads it. */
export interface PyMessage {
  timestamp: number;
  arbitration_id: number;
  is_extended_id: boolean;
  is_remote_frame: boolean;
  is_error_frame: boolean;
  is_fd: boolean;
  bitrate_switch: boolean;
  error_state_indicator: boolean;
  dlc: number;
  data: number[];
  /** `None` (null) where the format has no channel. */
  channel: number | string | null;
  is_rx: boolean;
}

/** python-can's log readers and writers the specs compare against, by the module that has them. */
const PY_LOG_CLASSES = {
  MF4Reader: "can.io.mf4",
  MF4Writer: "can.io.mf4",
  SqliteReader: "can",
  SqliteWriter: "can",
} as const;

/** What python-can's `reader` (constructed with `path` and the keyword arguments `options`) reads. */
export function pythonCanReads(reader: "MF4Reader" | "SqliteReader", path: string, options: Record<string, unknown> = {}): PyMessage[] {
  return runPythonCan(
    `import importlib
Reader = getattr(importlib.import_module(data["module"]), data["cls"])
r = Reader(data["path"], **data["options"])
result = [dict(timestamp=m.timestamp, arbitration_id=m.arbitration_id, is_extended_id=m.is_extended_id,
               is_remote_frame=m.is_remote_frame, is_error_frame=m.is_error_frame, is_fd=m.is_fd,
               bitrate_switch=m.bitrate_switch, error_state_indicator=m.error_state_indicator,
               dlc=m.dlc, data=list(m.data), channel=m.channel, is_rx=m.is_rx) for m in r]
r.stop()`,
    { module: PY_LOG_CLASSES[reader], cls: reader, path, options },
  ) as PyMessage[];
}

/**
 * python-can's `writer` (constructed with `path` and the keyword arguments
 * `options`) writing `messages`: python-can `Message` keyword arguments,
 * `data` as a list of bytes.
 */
export function pythonCanWrites(
  writer: "MF4Writer" | "SqliteWriter",
  path: string,
  messages: object[],
  options: Record<string, unknown> = {},
): void {
  runPythonCan(
    `import importlib
import can
Writer = getattr(importlib.import_module(data["module"]), data["cls"])
w = Writer(data["path"], **data["options"])
for m in data["messages"]:
    m["data"] = bytes(m.get("data", []))
    w.on_message_received(can.Message(**m))
w.stop()
result = True`,
    { module: PY_LOG_CLASSES[writer], cls: writer, path, messages, options },
  );
}
