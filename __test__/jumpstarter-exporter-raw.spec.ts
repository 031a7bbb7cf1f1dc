/**
 * canwire's exporter under raw gRPC calls from Python grpcio with
 * `jumpstarter_protocol`'s own stubs (the real wire, no Jumpstarter client
 * in between): every bad input the server must refuse, with its exact
 * status and text; the exact result shapes; GetStatus, EndSession, Reset
 * and LogStream; and the streaming extension (`canwire_recv_stream`,
 * `canwire_send_batch`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type Exporter, serveExporter } from "../src/index.js";
import { printedResult, runPythonClient, skipWithoutPythonPeers, stopAllPeers } from "./peers/index.js";

/** A raw client: `call(name, method, *args)` → `["OK", result]` or `[STATUS, details]`. */
const prelude = `
import json, base64, struct
import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from jumpstarter_protocol import jumpstarter_pb2, jumpstarter_pb2_grpc
import os
channel = grpc.insecure_channel(os.environ["EXPORTER"])
stub = jumpstarter_pb2_grpc.ExporterServiceStub(channel)
report = stub.GetReport(empty_pb2.Empty())
uuids = {r.labels.get("jumpstarter.dev/name"): r.uuid for r in report.reports}
def V(x):
    v = struct_pb2.Value()
    json_format.ParseDict(x, v)
    return v
def call(name, method, *args, uuid=None):
    try:
        r = stub.DriverCall(jumpstarter_pb2.DriverCallRequest(uuid=uuid or uuids[name], method=method, args=[V(a) for a in args]))
        return ["OK", json_format.MessageToDict(r.result) if r.HasField("result") else None]
    except grpc.RpcError as e:
        return [e.code().name, e.details()]
def cm(**over):
    m = {"timestamp": 0.0, "arbitration_id": 291.0, "is_extended_id": False, "is_remote_frame": False,
         "is_error_frame": False, "channel": None, "dlc": 2.0, "data": "qrs=", "is_fd": False, "is_rx": True,
         "bitrate_switch": False, "error_state_indicator": False}
    m.update(over)
    return m
def without(key):
    m = cm()
    del m[key]
    return m
def record(id, data, ext=False):
    flags = 1 if ext else 0
    return struct.pack("<QIIBBxxI64s", 0, id, flags, len(data), len(data), 0, bytes(data))
def records(*recs):
    return base64.b64encode(b"".join(recs)).decode()
def address(**over):
    a = {"addressing_mode": 0.0, "txid": 2016.0, "rxid": 2024.0, "target_address": None, "source_address": None,
         "physical_id": None, "functional_id": None, "address_extension": None, "rx_only": False, "tx_only": False}
    a.update(over)
    return a
`;

async function raw(body: string, exporter: Exporter): Promise<Record<string, unknown>> {
  const run = await runPythonClient(`${prelude}\n${body}`, { EXPORTER: exporter.address }, { timeoutMs: 30_000 });
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  return printedResult(run.stdout) as Record<string, unknown>;
}

const skip = skipWithoutPythonPeers();

describe.skipIf(skip)("canwire's exporter under raw gRPC calls (grpcio, jumpstarter_protocol stubs)", () => {
  let can: Bus;
  let peer: Bus;
  let local: Bus;
  let exporter: Exporter;

  beforeAll(async () => {
    can = await Bus.open({ interface: "virtual", channel: "jx-raw" });
    peer = await Bus.open({ interface: "virtual", channel: "jx-raw" });
    local = await Bus.open({ interface: "virtual", channel: "jx-raw" });
    exporter = await serveExporter({
      export: {
        can,
        peer,
        isotp: { type: "IsoTpPython", config: { channel: "jx-raw-tp", interface: "virtual", address: { txid: 0x7e0, rxid: 0x7e8 } } },
      },
    });
  });

  afterAll(async () => {
    await exporter?.close();
    for (const bus of [local, peer, can]) await bus?.close();
    await stopAllPeers();
  });

  it("refuses every bad input with the status and text a client can act on", async () => {
    const r = await raw(
      `
big = base64.b64encode(bytes(5 * 1024 * 1024)).decode()
print("RESULT", json.dumps({
  "unknown method": call("can", "nosuch"),
  "unknown uuid": call("can", "state", uuid="6b29fc40-ca47-1067-b31d-00dd010662da"),
  "malformed uuid": call("can", "state", uuid="nope"),
  "missing key": call("can", "send", without("is_rx"), None),
  "fractional id": call("can", "send", cm(arbitration_id=291.5), None),
  "string id": call("can", "send", cm(arbitration_id="291"), None),
  "null message": call("can", "send", None, None),
  "unpadded data": call("can", "send", cm(data="3q0"), None),
  "standard id 0x800": call("can", "send", cm(arbitration_id=2048.0), None),
  "9 classic bytes": call("can", "send", cm(data=base64.b64encode(bytes(9)).decode()), None),
  "negative timeout": call("can", "send", cm(), -1.0),
  "extra argument": call("can", "send", cm(), None, 1.0),
  "string recv timeout": call("can", "_recv_internal", "soon"),
  "periodic single struct": call("can", "_send_periodic_internal", cm(), 0.1, None, True),
  "periodic callback": call("can", "_send_periodic_internal", [cm()], 0.1, None, True, "cb"),
  "periodic zero period": call("can", "_send_periodic_internal", [cm()], 0.0, None, True),
  "task uuid not a uuid": call("can", "_start_task", "abc"),
  "task uuid unknown": call("can", "_start_task", "6b29fc40-ca47-1067-b31d-00dd010662da"),
  "filter without mask": call("can", "_apply_filters", [{"can_id": 1.0}]),
  "state 7": call("can", "state", 7.0),
  "recv stream by DriverCall": call("can", "canwire_recv_stream"),
  "batch of 4097": call("can", "canwire_send_batch", records(*[record(1, b"")] * 4097), None),
  "batch not whole records": call("can", "canwire_send_batch", base64.b64encode(bytes(100)).decode(), None),
  "batch with a bad record": call("can", "canwire_send_batch", records(record(1, b""), record(0x800, b"")), None),
  "isotp message without data": call("isotp", "send", {}, None, None),
  "isotp target type 2": call("isotp", "send", {"data": "AA=="}, 2.0, None),
  "isotp addressing mode 9": call("isotp", "set_address", address(addressing_mode=9.0)),
  "isotp address missing key": call("isotp", "set_address", {"txid": 1.0}),
  "isotp recv block string": call("isotp", "recv", "yes", None),
  "isotp unknown method": call("isotp", "_recv_internal", 1.0),
  "oversize payload": call("can", "send", cm(data=big), None),
}))
`,
      exporter,
    );
    const invalid = (text: string) => ["INVALID_ARGUMENT", text];
    expect(r).toEqual({
      "unknown method": ["NOT_FOUND", "method nosuch not found on driver"],
      "unknown uuid": ["UNKNOWN", "Unexpected <class 'KeyError'>: UUID('6b29fc40-ca47-1067-b31d-00dd010662da')"],
      "malformed uuid": ["UNKNOWN", "Unexpected <class 'ValueError'>: badly formed hexadecimal UUID string"],
      "missing key": invalid("args[0].is_rx: field required"),
      "fractional id": invalid("args[0].arbitration_id must be a whole number in 0..=4294967295, got 291.5"),
      "string id": invalid("args[0].arbitration_id must be a finite number, got a string"),
      "null message": invalid("args[0] must be an object, got null"),
      "unpadded data": ["INVALID_ARGUMENT", expect.stringMatching(/^args\[0\]\.data must be standard base64 with padding: /)],
      "standard id 0x800": ["INVALID_ARGUMENT", expect.stringContaining("0x800")],
      "9 classic bytes": ["INVALID_ARGUMENT", expect.stringContaining("9")],
      "negative timeout": invalid("args[1] must be 0 or more seconds, got -1"),
      "extra argument": invalid("send takes at most 2 arguments, got 3"),
      "string recv timeout": invalid("args[0] must be a finite number, got a string"),
      "periodic single struct": invalid("args[0] must be a list of CanMessage (python-can's send_periodic always sends a list)"),
      "periodic callback": invalid("args[4] (modifier_callback) must be null: a callback cannot cross the wire"),
      "periodic zero period": invalid("args[1] (period) must be a number of seconds above 0"),
      "task uuid not a uuid": invalid("args[0] must be a task uuid as _send_periodic_internal returned it, got 'abc'"),
      "task uuid unknown": ["UNKNOWN", "UUID('6b29fc40-ca47-1067-b31d-00dd010662da')"],
      "filter without mask": invalid("args[0][0].can_mask: field required"),
      "state 7": invalid("args[0] must be a whole number in 1..=3, got 7"),
      "recv stream by DriverCall": ["NOT_FOUND", "method canwire_recv_stream not found on driver"],
      "batch of 4097": invalid("args[0] holds 4097 records; canwire_send_batch takes at most 4096"),
      "batch not whole records": invalid("a record batch is a multiple of 88 bytes, got 100"),
      "batch with a bad record": ["INVALID_ARGUMENT", expect.stringMatching(/^record 1: .*0x800/)],
      "isotp message without data": invalid("args[0].data: field required"),
      "isotp target type 2": invalid("args[1] must be a whole number in 0..=1, got 2"),
      "isotp addressing mode 9": invalid("args[0].addressing_mode must be a whole number in 0..=6, got 9"),
      "isotp address missing key": invalid("args[0].addressing_mode: field required"),
      "isotp recv block string": invalid("args[0] must be a boolean, got a string"),
      "isotp unknown method": ["NOT_FOUND", "method _recv_internal not found on driver"],
      // tonic's decode limit (4 MiB), before any handler runs
      "oversize payload": ["OUT_OF_RANGE", expect.stringMatching(/the limit is: 4194304 bytes/)],
    });
    expect(await local.recv({ timeoutMs: 100 })).toBeNull(); // nothing refused went out
  });

  it("answers with the Python driver's exact result shapes; filters are applied by the server", async () => {
    await local.send({ id: 0x100, data: [1] });
    await local.send({ id: 0x200, data: [0xaa, 0xbb] });
    const r = await raw(
      `
filters = call("can", "_apply_filters", [{"can_id": 512.0, "can_mask": 2047.0, "extended": False}])
first = call("can", "_recv_internal", 1.0)
rest = call("can", "_recv_internal", 0.1)
call("can", "_apply_filters", None)
ts = first[1][0].pop("timestamp")
task = call("can", "_send_periodic_internal", [cm(arbitration_id=0x300)], 10.0, None, False)
print("RESULT", json.dumps({"filters": filters, "first": first, "ts": isinstance(ts, float), "rest": rest,
  "state": call("can", "state"), "protocol": call("can", "protocol"), "info": call("can", "channel_info"),
  "send": call("can", "send", cm(), 0.5), "task": [task[0], len(task[1])],
  "start": call("can", "_start_task", task[1]), "stop": call("can", "_stop_task", task[1]),
  "isotp": [call("isotp", "available"), call("isotp", "transmitting"), call("isotp", "recv", False, None),
            call("isotp", "set_address", address()), call("isotp", "stop_sending"), call("isotp", "stop_receiving")]}))
`,
      exporter,
    );
    expect(r).toEqual({
      filters: ["OK", null],
      first: [
        "OK",
        [
          {
            arbitration_id: 512,
            is_extended_id: false,
            is_remote_frame: false,
            is_error_frame: false,
            channel: "jx-raw",
            dlc: 2,
            data: "qrs=",
            is_fd: false,
            is_rx: true,
            bitrate_switch: false,
            error_state_indicator: false,
          },
          false,
        ],
      ],
      ts: true,
      rest: ["OK", [null, false]],
      state: ["OK", 1],
      protocol: ["OK", 1],
      info: ["OK", can.channelInfo],
      send: ["OK", null],
      task: ["OK", 36],
      start: ["OK", null],
      stop: ["OK", null],
      isotp: [
        ["OK", false],
        ["OK", false],
        ["OK", { data: null }],
        ["OK", null],
        ["OK", null],
        ["OK", null],
      ],
    });
    const seen = [];
    for (let m = await local.recv({ timeoutMs: 300 }); m; m = await local.recv({ timeoutMs: 100 })) seen.push([m.id, [...m.data]]);
    expect(seen[0]).toEqual([0x123, [0xaa, 0xbb]]); // the send
    expect(seen.slice(1).every(([id]) => id === 0x300)).toBe(true); // the task, started then stopped
  });

  it("GetStatus is LEASE_READY and stays so after EndSession; Reset answers; LogStream opens with the session record and logs driver errors", async () => {
    const r = await raw(
      `
def status():
    s = stub.GetStatus(jumpstarter_pb2.GetStatusRequest())
    return [s.status, s.message, s.status_version, s.previous_status]
before = status()
log = stub.LogStream(empty_pb2.Empty(), timeout=10)
first = next(log)
# its own subchannel pool: grpc-core would otherwise reuse this process's connection
other = jumpstarter_pb2_grpc.ExporterServiceStub(grpc.insecure_channel(os.environ["EXPORTER"], options=[("grpc.use_local_subchannel_pool", 1)]))
other.GetReport(empty_pb2.Empty())
connected = next(log)
call("can", "nosuch")
error = next(log)
log.cancel()
ended = stub.EndSession(jumpstarter_pb2.EndSessionRequest())
stub.Reset(jumpstarter_pb2.ResetRequest())
print("RESULT", json.dumps({"before": before, "after": status(), "ended": ended.success,
  "first": [first.severity, first.message, first.source], "connected": [connected.severity, connected.message, connected.source], "error": [error.severity, error.message, error.source, error.uuid == uuids["can"]]}))
`,
      exporter,
    );
    expect(r).toEqual({
      before: [4, "Ready for commands", 1, 2],
      after: [4, "Ready for commands", 1, 2],
      ended: true,
      first: ["INFO", `Session server started on ${exporter.address}`, 4],
      connected: ["INFO", expect.stringMatching(/^Client connected from 127\.0\.0\.1:\d+$/), 4],
      error: ["ERROR", "nosuch failed: NotFound method nosuch not found on driver", 1, true],
    });
  });

  it("streaming extension: canwire_send_batch sends every record; canwire_recv_stream delivers them packed, with a drop count", async () => {
    const r = await raw(
      `
stream = stub.StreamingDriverCall(jumpstarter_pb2.StreamingDriverCallRequest(uuid=uuids["can"], method="canwire_recv_stream"), timeout=10)
stream.initial_metadata()  # the server answered: the stream's queue is attached
sent = call("peer", "canwire_send_batch", records(record(0x10, b"\\x01"), record(0x1abcdef0, b"\\x02\\x03", ext=True), record(0x7ff, b"")), None)
got = []
while len(got) < 3:
    result = json_format.MessageToDict(next(stream).result)
    packed = base64.b64decode(result["records"])
    for i in range(0, len(packed), 88):
        ts, id, flags, length = struct.unpack_from("<QIIB", packed, i)
        got.append([id, flags & 1, packed[i + 24:i + 24 + length].hex()])
    dropped = result["dropped"]
stream.cancel()
unknown = None
try:
    next(iter(stub.StreamingDriverCall(jumpstarter_pb2.StreamingDriverCallRequest(uuid=uuids["isotp"], method="canwire_recv_stream"), timeout=5)))
except grpc.RpcError as e:
    unknown = [e.code().name, e.details()]
print("RESULT", json.dumps({"sent": sent, "got": got, "dropped": dropped, "unknown": unknown}))
`,
      exporter,
    );
    expect(r).toEqual({
      sent: ["OK", 3],
      got: [
        [0x10, 0, "01"],
        [0x1abcdef0, 1, "0203"],
        [0x7ff, 0, ""],
      ],
      dropped: 0,
      unknown: ["NOT_FOUND", "method canwire_recv_stream not found on driver"],
    });
    const seen = [];
    for (let m = await local.recv({ timeoutMs: 300 }); m; m = await local.recv({ timeoutMs: 100 })) seen.push(m.id);
    expect(seen).toEqual([0x10, 0x1abcdef0, 0x7ff]);
  });
});
