import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { missingPrerequisite, strictPrerequisites } from "./prerequisites.js";

describe("prerequisites of specs: skip on a user's machine, fail under CI=true", () => {
  it("reads CI as strict unless unset, empty, 0 or false", () => {
    const cases = [undefined, "", "0", "false", "FALSE", "true", "1", "yes"];
    expect(cases.map((ci) => strictPrerequisites(ci === undefined ? {} : { CI: ci }))).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it("says what is missing and how to get it, in both modes", () => {
    expect(missingPrerequisite("tc (iproute2)", "install iproute2", false)).toEqual({
      outcome: "skip",
      message: "tc (iproute2) missing: the specs that need it are skipped (install iproute2)",
    });
    expect(missingPrerequisite("tc (iproute2)", "install iproute2", true)).toEqual({
      outcome: "fail",
      message: "tc (iproute2) missing, and CI=true requires it: install iproute2",
    });
  });

  /** Runs `spec` in a child vitest, only the tests whose names match `names`, with `env` added. */
  function runSpec(spec: string, names: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const report = join(mkdtempSync(join(tmpdir(), "canwire-prereq-")), "report.json");
    const args = ["vitest", "run", spec, "-t", names, `--outputFile.json=${report}`];
    return new Promise((resolve) => {
      execFile("npx", args, { cwd: root, env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 80_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
      });
    });
  }

  /** Runs the fixture specs of logfile.spec.ts with no fixtures folder. */
  function runWithoutFixtures(ci: string): Promise<{ code: number; output: string }> {
    return runSpec("__test__/logfile.spec.ts", "prerequisite|other tools", { CI: ci, CANWIRE_FIXTURES: "/nonexistent/canwire-fixtures/" });
  }

  it("fails the run under CI=true when the log fixtures are missing", async () => {
    const run = await runWithoutFixtures("true");
    expect(run.output).toContain(
      "log fixtures at /nonexistent/canwire-fixtures/ missing, and CI=true requires it: set CANWIRE_FIXTURES to the python-can fixtures folder",
    );
    expect(run.code).toBe(1);
  }, 90_000);

  it("skips with the message on a user's machine when the log fixtures are missing", async () => {
    const run = await runWithoutFixtures("");
    expect(run.output).toContain(
      "log fixtures at /nonexistent/canwire-fixtures/ missing: the specs that need it are skipped (set CANWIRE_FIXTURES to the python-can fixtures folder)",
    );
    expect(run.code).toBe(0);
  }, 90_000);

  // Only where the kernel has no SocketCAN at all: there vcan0 is missing for certain.
  it.skipIf(existsSync("/proc/net/can"))(
    "fails the kernel tier under CI=true where SocketCAN is missing, and only there",
    async () => {
      const tier = await runSpec("__test__/kernel/send.spec.ts", "prerequisite", { CI: "true", CANWIRE_KERNEL_TIER: "1" });
      expect(tier.output).toMatch(/SocketCAN with vcan0 \(.*\) missing, and CI=true requires it: run the kernel specs in a qemu guest/);
      expect(tier.code).toBe(1);
      const host = await runSpec("__test__/kernel/send.spec.ts", "prerequisite", { CI: "true", CANWIRE_KERNEL_TIER: "" });
      expect(host.output).toMatch(/SocketCAN with vcan0 \(.*\) missing: the specs that need it are skipped/);
      expect(host.code).toBe(0);
    },
    120_000,
  );
});
