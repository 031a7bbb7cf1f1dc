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
