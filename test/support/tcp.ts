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
const [host, port, count, timeout] = process.argv.slice(1);
let left = Number(count);
const one = () => {
  if (left-- === 0) return;
  const s = net.connect({ host, port: Number(port), timeout: Number(timeout) });
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

/** Starts a server in `netns` on `port` that answers with `name`; resolves once it listens. */
export function startServer(netns: string, port: number, name: string): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", SERVER, String(port), name], { stdio: ["ignore", "pipe", "pipe"] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`server ${name} in ${netns}:${port} did not start: ${err}`)), 10_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      if (String(d).includes("ready")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${name} in ${netns}:${port} exited (${code}): ${err}`));
    });
  });
}

/** Stops every server this process started (also call from afterAll). */
export function stopServers(): void {
  for (const s of servers.splice(0)) {
    s.removeAllListeners("exit");
    s.kill("SIGKILL");
  }
}

/**
 * Connects `count` times from `netns` to host:port and returns the answers, "fail" for a connection
 * that was refused or timed out. `asUid` runs the client as that user (for owner matches).
 */
export function connectMany(netns: string, host: string, port: number, count: number, options: { timeoutMs?: number; asUid?: number } = {}): string[] {
  const node = [process.execPath, "-e", CLIENT, host, String(port), String(count), String(options.timeoutMs ?? 1500)];
  const cmd = options.asUid === undefined ? node : ["setpriv", `--reuid=${options.asUid}`, `--regid=${options.asUid}`, "--clear-groups", ...node];
  const r = spawnSync("ip", ["netns", "exec", netns, ...cmd], { encoding: "utf8", timeout: 120_000 });
  return (r.stdout ?? "").split("\n").filter(Boolean);
}

/** One connection: the answer, or "fail". */
export function connect(netns: string, host: string, port: number, options: { timeoutMs?: number; asUid?: number } = {}): string {
  return connectMany(netns, host, port, 1, options)[0] ?? "fail";
}
