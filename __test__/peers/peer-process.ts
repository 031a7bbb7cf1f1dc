/**
 * Peer processes a spec starts, and their end: each runs in a process group
 * of its own, its output is kept (the last 64 KiB of each stream), and
 * stopping it ends its whole process tree, including children that left the
 * group (`jmp run` forks its worker into a group of its own). Whatever a spec
 * leaves running is killed when the test worker exits, so no peer outlives
 * the run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";

const keptOutput = 64 * 1024;

/** A running peer process. */
export interface PeerProcess {
  readonly child: ChildProcess;
  /** What it wrote to stdout so far (the last 64 KiB). */
  stdout(): string;
  /** What it wrote to stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Resolves with its exit code (null when a signal ended it) once it has exited. */
  readonly exited: Promise<number | null>;
  /** Whether it has exited. */
  hasExited(): boolean;
  /**
   * Notes its descendants now, so that stop() ends them even after they left
   * its tree (a child outliving its parent is reparented): call once it is up.
   */
  rememberDescendants(): void;
  /** The descendants noted so far. */
  descendants(): number[];
  /**
   * Ends it and every process it started: SIGTERM to all of them, SIGKILL to
   * any still alive after `graceMs`. Resolves once none is left; idempotent.
   */
  stop(graceMs?: number): Promise<void>;
}

/** The result of a peer command that ran to its end. */
export interface PeerRun {
  code: number;
  stdout: string;
  stderr: string;
}

const running = new Set<PeerProcess>();

/** Starts `command` in a process group of its own; with `keepStdinOpen` its stdin is a pipe left open until it is stopped. */
export function startPeerProcess(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; keepStdinOpen?: boolean },
): PeerProcess {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: [options.keepStdinOpen ? "pipe" : "ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out = (out + chunk).slice(-keptOutput);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err = (err + chunk).slice(-keptOutput);
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (error) => {
      err += `\n${error.message}`;
      done = true;
      resolve(null);
    });
    child.once("close", (code) => {
      done = true;
      resolve(code);
    });
  });
  const descendants = new Set<number>();
  let stopping: Promise<void> | undefined;
  const peer: PeerProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    descendants: () => [...descendants],
    rememberDescendants() {
      if (child.pid) for (const pid of processTree(child.pid)) descendants.add(pid);
    },
    stop(graceMs = 3000) {
      peer.rememberDescendants();
      stopping ??= stopTree(child, [...descendants], graceMs, exited, done).finally(() => running.delete(peer));
      return stopping;
    },
  };
  running.add(peer);
  return peer;
}

/**
 * Runs `command` to its end within `timeoutMs`; on timeout kills its process
 * tree and rejects with an error quoting its output.
 */
export async function runPeerCommand(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<PeerRun> {
  const peer = startPeerProcess(command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
  });
  const outcome = await Promise.race([peer.exited, timedOut]);
  clearTimeout(timer);
  await peer.stop(500);
  if (outcome === "timeout") {
    throw new Error(
      `${[command, ...args].join(" ")} did not finish within ${options.timeoutMs} ms and was killed\n` +
        `stdout: ${peer.stdout()}\nstderr: ${peer.stderr()}`,
    );
  }
  return { code: outcome ?? -1, stdout: peer.stdout(), stderr: peer.stderr() };
}

/** Stops every peer still running (specs call it from afterAll as a safety net; the exit hook does it too). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...running].map((peer) => peer.stop()));
}

async function stopTree(child: ChildProcess, descendants: number[], graceMs: number, exited: Promise<number | null>, done: boolean) {
  if (!child.pid) return;
  // A child that has exited was reaped and its pid may be reused: then signal only its group and the descendants noted.
  const tree = done ? descendants : [child.pid, ...descendants];
  const remaining = () => tree.filter(processIsAlive);
  signalAll(child.pid, tree, "SIGTERM");
  await waitUntil(() => remaining().length === 0, graceMs);
  if (remaining().length > 0) signalAll(child.pid, remaining(), "SIGKILL");
  await exited;
  await waitUntil(() => remaining().length === 0, 2000);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

function signalAll(groupLeader: number, pids: readonly number[], signal: NodeJS.Signals): void {
  for (const target of [-groupLeader, ...pids]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** The pids of every descendant of `pid` (children first found through /proc, else `pgrep -P`). */
export function processTree(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const parent = pending.pop()!;
    for (const kid of childrenOf(parent)) {
      if (!found.includes(kid)) {
        found.push(kid);
        pending.push(kid);
      }
    }
  }
  return found;
}

function childrenOf(pid: number): number[] {
  if (existsSync("/proc/self/stat")) {
    const kids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat && stat.ppid === pid) kids.push(Number(entry));
    }
    return kids;
  }
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** State and parent of a process from /proc/PID/stat (the command name may hold spaces and parentheses). */
function readStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Whether process `pid` runs: alive and not a zombie (a reparented worker may stay a zombie where pid 1 does not reap). */
export function processIsAlive(pid: number): boolean {
  if (existsSync("/proc/self/stat")) {
    const stat = readStat(pid);
    return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const foldersToRemove = new Set<string>();

/** Removes `dir` when the test worker goes away, unless `keep(dir)` is called first (a peer's scratch folder). */
export function removeAtExit(dir: string): { keep(): void } {
  foldersToRemove.add(dir);
  return { keep: () => foldersToRemove.delete(dir) };
}

/** Kills every peer still running and removes their folders, at once and synchronously (the process is going away). */
function killAllNow(): void {
  for (const dir of foldersToRemove) rmSync(dir, { recursive: true, force: true });
  for (const peer of running) {
    const pid = peer.child.pid;
    peer.rememberDescendants();
    if (pid) signalAll(pid, [pid, ...peer.descendants()], "SIGKILL");
  }
}

process.once("exit", killAllNow);
// Vitest ends a test worker with SIGTERM, which skips "exit" handlers: kill the
// peers, then let the signal end the worker as it would have.
process.once("SIGTERM", () => {
  killAllNow();
  process.kill(process.pid, "SIGTERM");
});
