import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { skipWithout } from "./prerequisites.js";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const canUnshare = spawnSync("unshare", ["-n", "--map-root-user", "true"]).status === 0;

/** Runs an ESM script inside a private network namespace with only loopback up: beacons never reach the machine's interfaces. */
function inPrivateNetwork(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "unshare",
      ["-n", "--map-root-user", "sh", "-c", 'ip link set lo up && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      { timeout: 20_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(skipWithout("unshare -n --map-root-user", canUnshare, "util-linux unshare with unprivileged user namespaces"))(
  "socketcand beacon (in a private network namespace)",
  () => {
    it("detectSocketcand finds a server's beacon only when the server opts in", async () => {
      const script = `
        import { Bus, serveSocketcand, detectSocketcand } from ${JSON.stringify(dist)};
        const bus = await Bus.open({ channel: "beacon" });
        const quiet = await serveSocketcand({ can3: bus }, { port: 0 });
        const none = await detectSocketcand({ timeoutMs: 800 });
        await quiet.close();
        const listening = Bus.detectSocketcand({ timeoutMs: 1500 });
        await new Promise((r) => setTimeout(r, 100));
        const loud = await serveSocketcand({ vcan0: bus }, { port: 0, beacon: true });
        const found = await listening;
        const opened = await Bus.open(found[0]);
        console.log(JSON.stringify({ none, found, port: loud.address.port, state: opened.state }));
        await opened.close();
        await loud.close();
        await bus.close();
      `;
      const { code, stdout, stderr } = await inPrivateNetwork(script);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.none).toEqual([]);
      expect(result.found).toEqual([
        { interface: "socketcand", host: "127.0.0.1", port: result.port, channel: "vcan0", serverName: expect.any(String) },
      ]);
      expect(result.state).toBe("active");
    });
  },
);
