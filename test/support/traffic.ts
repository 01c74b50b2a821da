import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";

/**
 * Background traffic for "no gap" tests: each runs in a namespace until `stop()` and then reports
 * one JSON line, so the test process may block (a deploy runs synchronously) without stalling them.
 */

/** New connections as fast as `concurrency` in flight allow, each given up after `timeoutMs`. */
const FLOOD = `
const net = require("net"), fs = require("fs");
const [host, port, stopFile, concurrency, timeoutMs] = process.argv.slice(1);
let passed = 0, tried = 0, inFlight = 0, stopping = false;
const start = Date.now();
const one = () => {
  if (stopping) return;
  tried++; inFlight++;
  const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => done(false), Number(timeoutMs));
  let over = false;
  function done(ok) { if (over) return; over = true; clearTimeout(t); if (ok) passed++; s.destroy(); inFlight--; setImmediate(one); }
  s.on("connect", () => done(true));
  s.on("error", () => done(false));
};
for (let i = 0; i < Number(concurrency); i++) one();
// Progress for a test that waits on it: the connections that got through so far.
setInterval(() => process.stderr.write("passed " + passed + "\\n"), 100);
const check = setInterval(() => {
  if (!fs.existsSync(stopFile)) return;
  stopping = true; clearInterval(check);
  const seconds = (Date.now() - start) / 1000;
  setTimeout(() => { console.log(JSON.stringify({ passed, tried, seconds, rate: tried / seconds })); process.exit(0); }, Number(timeoutMs) + 50);
}, 100);
`;

/** A byte stream to an echo server: 1 KiB every 5 ms; at stop, waits for every byte to come back. */
const STREAM = `
const net = require("net"), fs = require("fs");
const [host, port, stopFile] = process.argv.slice(1);
let sent = 0, received = 0, broken = false, last = Date.now(), maxGapMs = 0, timer;
const chunk = Buffer.alloc(1024, 120);
const s = net.connect({ host, port: Number(port) });
s.on("connect", () => { console.error("connected"); timer = setInterval(() => { s.write(chunk); sent += chunk.length; }, 5); });
s.on("data", (d) => { const now = Date.now(); maxGapMs = Math.max(maxGapMs, now - last); last = now; received += d.length; });
for (const ev of ["error", "end", "close"]) s.on(ev, () => { broken = true; });
const check = setInterval(() => {
  if (!fs.existsSync(stopFile)) return;
  clearInterval(check); clearInterval(timer);
  const until = Date.now() + 5000;
  const wait = setInterval(() => {
    if (received >= sent || Date.now() > until) {
      clearInterval(wait);
      console.log(JSON.stringify({ sent, received, broken, maxGapMs }));
      process.exit(0);
    }
  }, 20);
}, 100);
`;

/** Connects to a service again and again (one at a time, 1 s timeout) and counts the failures. */
const WATCH = `
const net = require("net"), fs = require("fs");
const [host, port, stopFile] = process.argv.slice(1);
let ok = 0, failed = 0, stop = false;
const one = () => {
  if (fs.existsSync(stopFile)) { console.log(JSON.stringify({ ok, failed })); process.exit(0); }
  const s = net.connect({ host, port: Number(port), timeout: 1000 });
  let data = "", over = false;
  const done = (good) => { if (over) return; over = true; s.destroy(); good ? ok++ : failed++; setTimeout(one, 20); };
  s.on("data", (d) => (data += d));
  s.on("end", () => done(data.length > 0));
  s.on("timeout", () => done(false));
  s.on("error", () => done(false));
};
one();
`;

export interface Background<T> {
  /** Tells it to stop and resolves with its report. */
  stop(): Promise<T>;
  /** What it has printed on stderr so far (the flood's progress). */
  progress(): string;
}

let count = 0;

function background<T>(netns: string, code: string, args: string[], ready?: string): Promise<Background<T>> {
  const stopFile = `/tmp/cloudnet-traffic-${process.pid}-${count++}`;
  fs.rmSync(stopFile, { force: true });
  const child: ChildProcess = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", code, ...args.slice(0, 2), stopFile, ...args.slice(2)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<T>((resolve, reject) => child.on("exit", () => {
    fs.rmSync(stopFile, { force: true });
    try { resolve(JSON.parse(out.trim())); } catch { reject(new Error(`traffic in ${netns} printed '${out}' '${err}'`)); }
  }));
  const handle: Background<T> = { stop: () => { fs.writeFileSync(stopFile, ""); return exited; }, progress: () => err };
  if (!ready) return Promise.resolve(handle);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`traffic in ${netns} did not start: ${err}`)), 5000);
    child.stderr!.on("data", () => { if (err.includes(ready)) { clearTimeout(timer); resolve(handle); } });
  });
}

export const flood = (netns: string, host: string, port: number, concurrency = 200, timeoutMs = 150) =>
  background<{ passed: number; tried: number; seconds: number; rate: number }>(netns, FLOOD, [host, String(port), String(concurrency), String(timeoutMs)]);

export const stream = (netns: string, host: string, port: number) =>
  background<{ sent: number; received: number; broken: boolean; maxGapMs: number }>(netns, STREAM, [host, String(port)], "connected");

export const watch = (netns: string, host: string, port: number) =>
  background<{ ok: number; failed: number }>(netns, WATCH, [host, String(port)]);
