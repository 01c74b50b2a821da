import { ChildProcess, spawn } from "child_process";

/**
 * Accepts connections and resets them. Ending with RST on both sides leaves no TIME_WAIT: with FIN,
 * a few seconds at thousands per second exhaust the ephemeral ports and every later run crawls at
 * the retransmit timer (about 1,000/s, measured).
 */
const SERVER = `
require("net").createServer((s) => s.resetAndDestroy()).listen(Number(process.argv[1]), "0.0.0.0", () => console.log("ready"));
`;

/**
 * Opens new connections with CONCURRENCY in flight for `ms`; prints completed connections per second.
 * Node's event loop is the limit of one client process, so the figure compares the two setups rather
 * than measuring the kernel's ceiling.
 */
const CLIENT = `
const net = require("net");
const [host, port, ms, concurrency] = process.argv.slice(1);
const until = Date.now() + Number(ms);
let done = 0;
const started = Date.now();
let running = Number(concurrency);
const one = () => {
  if (Date.now() > until) { if (--running === 0) console.log((done * 1000) / (Date.now() - started)); return; }
  const s = net.connect({ host, port: Number(port) });
  s.on("connect", () => { done++; s.resetAndDestroy(); one(); });
  s.on("error", () => { s.destroy(); one(); });
};
for (let i = 0; i < Number(concurrency); i++) one();
`;

const children: ChildProcess[] = [];

export function startRateServer(netns: string, port: number): Promise<void> {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", SERVER, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
    child.on("exit", (code) => reject(new Error(`rate server exited ${code}`)));
  });
}

export function rate(netns: string, host: string, port: number, ms: number, concurrency = 1): Promise<number> {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", CLIENT, host, String(port), String(ms), String(concurrency)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => child.on("exit", () => {
    const n = Number(out.trim());
    if (Number.isFinite(n)) resolve(n);
    else reject(new Error(`rate client printed '${out}'`));
  }));
}
