import { ChildProcess, spawn, spawnSync } from "child_process";

/**
 * A TCP server inside a namespace: to every connection it answers `<name> <peer address>` and
 * closes, so a client learns which node it reached and what source address that node saw.
 */
const SERVER = `
const net = require("net");
const [port, name] = process.argv.slice(1);
net.createServer((s) => { s.end(name + " " + s.remoteAddress.replace(/^::ffff:/, "") + "\\n"); })
  .listen(Number(port), "::", () => console.log("ready"));
`;

/** Opens `count` connections one after another; prints each answer (or "fail") on a line. */
const CLIENT = `
const net = require("net");
const [host, port, count, timeout, localAddress] = process.argv.slice(1);
let left = Number(count);
const one = () => {
  if (left-- === 0) return;
  const s = net.connect({ host, port: Number(port), timeout: Number(timeout), ...(localAddress ? { localAddress } : {}) });
  let data = "";
  const done = (text) => { s.destroy(); console.log(text); one(); };
  s.on("data", (d) => (data += d));
  s.on("end", () => done(data.trim() || "fail"));
  s.on("timeout", () => done("fail"));
  s.on("error", () => done("fail"));
};
one();
`;

const servers: ChildProcess[] = [];

/**
 * A named namespace: in the test's own mount namespace, or in that of process `mountOf` (a machine
 * that keeps its namespaces in a private /run, as the three-machine e2e's sshds do).
 */
export type NetnsRef = string | { readonly netns: string; readonly mountOf: number };

/** The command that runs what follows it in `ref`. */
export function inNetns(ref: NetnsRef): string[] {
  if (typeof ref === "string") return ["ip", "netns", "exec", ref];
  return ["nsenter", "-t", String(ref.mountOf), "-m", "ip", "netns", "exec", ref.netns];
}

const nameOfRef = (ref: NetnsRef) => (typeof ref === "string" ? ref : ref.netns);

/** Starts a server in `netns` on `port` that answers with `name`; resolves once it listens. */
export function startServer(netns: NetnsRef, port: number, name: string): Promise<ChildProcess> {
  return startScript(netns, SERVER, [String(port), name], `server ${name} in ${nameOfRef(netns)}:${port}`);
}

/** Stops every server this process started (also call from afterAll). */
export function stopServers(): void {
  for (const s of servers.splice(0)) {
    s.removeAllListeners("exit");
    s.kill("SIGKILL");
  }
}

export interface ConnectOptions {
  readonly timeoutMs?: number;
  /** Run the client as this uid (for owner matches). */
  readonly asUid?: number;
  /** Bind the client to this source address. */
  readonly localAddress?: string;
}

/**
 * Connects `count` times from `netns` to host:port and returns the answers, "fail" for a connection
 * that was refused or timed out. `asUid` runs the client as that user (for owner matches).
 */
export function connectMany(netns: NetnsRef, host: string, port: number, count: number, options: ConnectOptions = {}): string[] {
  const node = [process.execPath, "-e", CLIENT, host, String(port), String(count), String(options.timeoutMs ?? 1500), options.localAddress ?? ""];
  const cmd = options.asUid === undefined ? node : ["setpriv", `--reuid=${options.asUid}`, `--regid=${options.asUid}`, "--clear-groups", ...node];
  const [exe, ...args] = [...inNetns(netns), ...cmd];
  const r = spawnSync(exe, args, { encoding: "utf8", timeout: 120_000 });
  return (r.stdout ?? "").split("\n").filter(Boolean);
}

/** One connection: the answer, or "fail". */
export function connect(netns: NetnsRef, host: string, port: number, options: ConnectOptions = {}): string {
  return connectMany(netns, host, port, 1, options)[0] ?? "fail";
}

/** An echo server: what a client sends comes back. */
const ECHO = `
const net = require("net");
net.createServer((s) => s.pipe(s)).listen(Number(process.argv[1]), "::", () => console.log("ready"));
`;

/** Keeps one connection open, sending a line every 50 ms; prints "ok" per echo, "broken" and exits on error. */
const HOLD = `
const net = require("net");
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
s.setEncoding("utf8");
s.on("connect", () => { console.log("connected"); setInterval(() => s.write("ping\\n"), 50); });
s.on("data", (d) => d.split("\\n").filter(Boolean).forEach(() => console.log("ok")));
for (const ev of ["error", "end", "close"]) s.on(ev, () => { console.log("broken"); process.exit(1); });
`;

/** Tries new connections back to back for `ms` and prints how many got through. */
const PROBE = `
const net = require("net");
const [host, port, ms] = process.argv.slice(1);
const until = Date.now() + Number(ms);
let passed = 0, tried = 0;
const one = () => {
  if (Date.now() > until) { console.log(JSON.stringify({ passed, tried })); return; }
  tried++;
  const s = net.connect({ host, port: Number(port), timeout: 200 });
  const next = () => { s.destroy(); setImmediate(one); };
  s.on("connect", () => { passed++; next(); });
  s.on("timeout", next);
  s.on("error", next);
};
one();
`;

export function startEchoServer(netns: string, port: number): Promise<ChildProcess> {
  return startScript(netns, ECHO, [String(port)], `echo ${netns}:${port}`);
}

/** A held connection: read `lines()` to see how many echoes came back and whether it broke. */
export async function holdConnection(netns: string, host: string, port: number): Promise<{ lines: () => string[] }> {
  const out: string[] = [];
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", HOLD, host, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  servers.push(child);
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => out.push(...d.split("\n").filter(Boolean)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${host}:${port} from ${netns}`)), 5000);
    const check = setInterval(() => {
      if (out.includes("connected")) { clearTimeout(timer); clearInterval(check); resolve(); }
      if (out.includes("broken")) { clearTimeout(timer); clearInterval(check); reject(new Error(`connection to ${host}:${port} broke`)); }
    }, 20);
  });
  return { lines: () => [...out] };
}

/** Starts probing new connections for `ms` in the background; resolves with how many passed. */
export function probe(netns: string, host: string, port: number, ms: number): Promise<{ passed: number; tried: number }> {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", PROBE, host, String(port), String(ms)], { stdio: ["ignore", "pipe", "inherit"] });
  servers.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => child.on("exit", () => {
    try { resolve(JSON.parse(out.trim())); } catch { reject(new Error(`probe printed ${out}`)); }
  }));
}

function startScript(netns: NetnsRef, code: string, args: string[], what: string): Promise<ChildProcess> {
  const [exe, ...rest] = [...inNetns(netns), process.execPath, "-e", code, ...args];
  const child = spawn(exe, rest, { stdio: ["ignore", "pipe", "pipe"] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), 10_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      if (String(d).includes("ready")) { clearTimeout(timer); resolve(child); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}): ${err}`)); });
  });
}
