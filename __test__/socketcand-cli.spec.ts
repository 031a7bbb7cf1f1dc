import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Bus } from "../src/index.js";
import { recvN, runCli, uniqueChannel } from "./helpers.js";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: ChildProcess | undefined;
afterEach(() => {
  server?.kill("SIGKILL");
  server = undefined;
});

/** Starts `canwire serve --socketcand ARGS` and resolves its "serving … on HOST:PORT" line. */
function serve(args: string[]): Promise<{ line: string; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, "serve", "--socketcand", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  server = child;
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /serving (.*) on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve({ line: match[0], port: Number(match[2]), stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`serve --socketcand exited with ${code}: ${stderr}`)));
  });
}

describe("canwire serve --socketcand", () => {
  it("serves the named buses; clients see each other; SIGINT ends it with a summary", async () => {
    const channel = uniqueChannel("cli").slice(0, 15);
    const { line, port, stderr } = await serve(["--listen", "127.0.0.1:0", "-c", channel]);
    expect(line).toBe(`serving ${channel} on 127.0.0.1:${port}`);
    const a = await Bus.open({ interface: "socketcand", channel, port });
    const b = await Bus.open({ interface: "socketcand", channel, port });
    await sleep(30);
    await a.send({ id: 0x321, data: [0xaa, 0xbb] });
    const m = (await recvN(b, 1))[0]!;
    expect([m.id, [...m.data]]).toEqual([0x321, [0xaa, 0xbb]]);
    expect(await a.recv({ timeoutMs: 100 })).toBeNull();
    await a.close();
    await b.close();
    const exited = new Promise<number | null>((r) => server?.once("exit", r));
    server?.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr()).toContain("2 connection(s), 0 frame(s) dropped for slow clients, 0 refused");
  });

  it("dump -i socketcand -c BUS@HOST:PORT reads through the server", async () => {
    const channel = uniqueChannel("cli").slice(0, 15);
    const { port } = await serve(["--listen", "127.0.0.1:0", "-c", channel]);
    const dumped = runCli(["dump", "-i", "socketcand", "-c", `${channel}@127.0.0.1:${port}`, "-n", "1"]);
    await using tx = await Bus.open({ interface: "socketcand", channel, port });
    // until dump's connection is up, a frame may precede it: send until it prints
    let result: Awaited<typeof dumped> | undefined;
    dumped.then((r) => {
      result = r;
    });
    for (let i = 0; i < 100 && !result; i++) {
      await tx.send({ id: 0x7e0, data: [1, 2] });
      await sleep(50);
    }
    expect(result?.code).toBe(0);
    expect(result?.stdout).toMatch(new RegExp(`^\\(\\d+\\.\\d{6}\\) ${channel} 7E0#0102\\n$`));
  });

  it("serve --config FILE --socketcand: the config's Can entries over socketcand beside the Jumpstarter endpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canwire-scd-"));
    const config = join(dir, "exporter.yaml");
    const channel = uniqueChannel("cli");
    writeFileSync(
      config,
      `export:\n  can: {type: jumpstarter_driver_can.driver.Can, config: {channel: ${channel}, interface: virtual}}\n  rig2: {type: jumpstarter_driver_can.driver.Can, config: {channel: ${channel}, interface: virtual}}\n`,
    );
    const child = spawn(process.execPath, [cli, "serve", "--config", config, "--socketcand", "--socketcand-listen", "127.0.0.1:0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        const match = /serving can, rig2 on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    // the two exports are two buses on one virtual channel: what one client sends the other receives
    await using a = await Bus.open({ interface: "socketcand", channel: "can", port });
    await using b = await Bus.open({ interface: "socketcand", channel: "rig2", port });
    await sleep(30);
    await a.send({ id: 0x5a5, data: [5] });
    const m = (await recvN(b, 1))[0]!;
    expect([m.id, [...m.data]]).toEqual([0x5a5, [5]]);
    for (let i = 0; i < 50 && !stdout.includes("listening on 127.0.0.1:"); i++) await sleep(20);
    expect(stdout).toMatch(/^listening on 127\.0\.0\.1:\d+\n/);
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("usage errors", async () => {
    expect((await runCli(["serve", "--socketcand", "--listen", "x:y"])).code).toBe(2);
    expect((await runCli(["serve", "--socketcand", "-i", "virtual", "-i", "virtual", "-c", "a"])).stderr).toContain(
      "give one -i, or one -i per -c",
    );
    expect((await runCli(["dump", "-i", "socketcand", "-c", "@127.0.0.1"])).stderr).toContain("a socketcand channel is BUS@HOST[:PORT]");
    expect((await runCli(["dump", "-i", "socketcand", "-c", "vcan0@127.0.0.1:99999"])).stderr).toContain("port must be 0..65535");
  });
});
