import { ChildProcess, spawn } from "child_process";
import * as path from "path";

/**
 * New TCP connections per second between two namespaces, with tcp-rate.py at both ends: a server
 * of several SO_REUSEPORT workers and a client of several processes, each with many connects in
 * flight (epoll), every connection four packets ending in RST. One Python process in a loop is not
 * the limit: with two clients the machine's CPUs are saturated and more clients add nothing
 * (`npm run bench -- sg` prints that scan), so the rate measures the kernel path and its rules.
 */
const TOOL = path.join(__dirname, "tcp-rate.py");

export interface RateServer {
  readonly pids: readonly number[];
  stop(): void;
}

/** Starts `workers` accepting processes on `port` in `netns`; resolves once all listen. */
export function startRateServer(netns: string, port: number, workers = 2): Promise<RateServer> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", netns, "python3", TOOL, "server", String(port), String(workers)], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => {
    for (const pid of pids) try { process.kill(pid, "SIGKILL"); } catch { /* gone already */ }
    child.kill("SIGKILL");
  };
  let pids: number[] = [];
  process.on("exit", stop);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      const line = String(d).split("\n").find((l) => l.startsWith("ready"));
      if (!line) return;
      pids = line.split(" ").slice(1).map(Number);
      resolve({ pids, stop });
    });
    child.on("exit", (code) => reject(new Error(`rate server exited ${code}`)));
  });
}

export interface RateResult {
  /** Completed handshakes per second over the window. */
  readonly rate: number;
  readonly per_client: readonly number[];
  /** Share of all CPUs busy during the window (1 = saturated). */
  readonly cpu_busy: number;
}

/**
 * Connects from `netns` to `host`:`port` with `clients` processes of `inflight` connects each for
 * `seconds`, counted after a warm-up of half a second.
 */
export function rate(netns: string, host: string, port: number, seconds: number, server: RateServer, clients = 2, inflight = 64): Promise<RateResult> {
  const args = ["netns", "exec", netns, "python3", TOOL, "client", host, String(port), "0.5", String(seconds), String(clients), String(inflight), ...server.pids.map(String)];
  const child = spawn("ip", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => child.on("exit", () => {
    try {
      resolve(JSON.parse(out.trim()) as RateResult);
    } catch {
      reject(new Error(`rate client printed '${out}'`));
    }
  }));
}
