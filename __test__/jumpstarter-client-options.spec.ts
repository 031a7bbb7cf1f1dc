/**
 * Opening a Jumpstarter bus or ISO-TP stack with options it cannot use: the
 * checks that need no exporter (types, where to connect, the passphrase's
 * form, an address nobody listens on).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Bus, CanError, IsoTp } from "../src/index.js";

async function rejection(work: Promise<unknown>): Promise<[string, string]> {
  try {
    await work;
  } catch (error) {
    if (error instanceof CanError) return [error.code, error.message];
    throw error;
  }
  throw new Error("nothing was thrown");
}

const CONNECTION_VARIABLES = ["JUMPSTARTER_HOST", "JMP_GRPC_INSECURE", "JUMPSTARTER_GRPC_INSECURE", "JMP_GRPC_PASSPHRASE"];

describe("Jumpstarter client options", () => {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(CONNECTION_VARIABLES.map((name) => [name, process.env[name]]));
    for (const name of CONNECTION_VARIABLES) delete process.env[name];
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("names an option of the wrong type", async () => {
    expect(await rejection(Bus.open({ interface: "jumpstarter", host: 5 as unknown as string }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "options.host must be a string, got number",
    ]);
    expect(await rejection(IsoTp.open({ interface: "jumpstarter", insecure: "yes" as unknown as boolean }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "options.insecure must be a boolean, got string",
    ]);
  });

  it("without a host or JUMPSTARTER_HOST says where one comes from", async () => {
    expect(await rejection(Bus.open({ interface: "jumpstarter", channel: "can" }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "no Jumpstarter exporter to connect to: pass host (a Unix socket path or host:port) or run inside `jmp shell`, which sets JUMPSTARTER_HOST",
    ]);
  });

  it("refuses a passphrase gRPC metadata cannot carry", async () => {
    expect(await rejection(Bus.open({ interface: "jumpstarter", host: "127.0.0.1:1", insecure: true, passphrase: "pässword" }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "the passphrase must be printable ASCII (it travels as gRPC metadata)",
    ]);
  });

  it("an address nobody listens on is ERR_UNREACHABLE naming it, from the options or the environment", async () => {
    const [code, message] = await rejection(Bus.open({ interface: "jumpstarter", host: "127.0.0.1:1", insecure: true }));
    expect(code).toBe("ERR_UNREACHABLE");
    expect(message).toMatch(/^the Jumpstarter exporter at 127\.0\.0\.1:1 is unreachable: /);
    process.env.JUMPSTARTER_HOST = "/nonexistent/jumpstarter/socket";
    const [socketCode, socketMessage] = await rejection(IsoTp.open({ interface: "jumpstarter" }));
    expect(socketCode).toBe("ERR_UNREACHABLE");
    expect(socketMessage).toMatch(/^the Jumpstarter exporter at unix:\/nonexistent\/jumpstarter\/socket is unreachable/);
  });

  it("ISO-TP options that belong to a local stack are refused on interface 'jumpstarter'", async () => {
    expect(await rejection(IsoTp.open({ interface: "jumpstarter", stack: "kernel" }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "interface 'jumpstarter' runs the exporter's own ISO-TP driver: bus, stack and kernel do not apply",
    ]);
  });
});
