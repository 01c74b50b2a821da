/**
 * `npm run bench -- qos`: traffic control.
 * - The textbook HTB tree (test/kernel/fixtures/qos-lab.ts: root 100 Mbit/s, a 30, b 10, c 60, each
 *   with ceil 100) under load, iperf3 TCP: each class's rate with all three sending, against its
 *   configured rate (the baseline: what HTB promises a class when every class wants more), and each
 *   class alone against its ceil. Medians of RUNS (default 3) runs of SECONDS each.
 * - A 1,000-class tree (a root and 999 leaves, each with its queue and a u32 filter: about 3,000 tc
 *   commands) built on one device: one `tc -batch`, as the lab applies it, against one `tc` process
 *   per command (what a script of tc calls does), in the same run, from an empty device each time.
 * Needs root (namespaces).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Backend, Lab, Rate } from "../lib";
import { ResolvedLab, formatIssues } from "../lib/model";
import { tcBatch } from "../lib/render/qos";
import { PORTS, RX, qosLab } from "../test/kernel/fixtures/qos-lab";
import { applyAll } from "../test/support/apply";
import { cleanupPrefix, uniquePrefix } from "../test/support/netns";
import { median, seconds } from "./support/measure";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = 5;
const CLASSES = { a: { from: "sa", port: PORTS.a, mbit: 30 }, b: { from: "sb", port: PORTS.b, mbit: 10 }, c: { from: "sc", port: PORTS.c, mbit: 60 } } as const;
type ClassName = keyof typeof CLASSES;
const CEIL_MBIT = 100;
const BIG = 1000;
/** HTB counts whole frames; iperf3 reports TCP payload: 1,448 bytes (MSS with timestamps) of each 1,514-byte frame. */
const PAYLOAD_OF_FRAME = 1448 / 1514;

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 5).join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function resolve(lab: Lab): ResolvedLab {
  const r = lab.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

/** One iperf3 client's received rate in Mbit/s. */
function iperf(netns: string, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const c = spawn("ip", ["netns", "exec", netns, "iperf3", "-c", RX, "-p", String(port), "-t", String(SECONDS), "-J"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("exit", (code) => {
      if (code !== 0) return fail(new Error(`iperf3 to port ${port} exited ${code}: ${out.slice(0, 300)}`));
      done(JSON.parse(out).end.sum_received.bits_per_second / 1e6);
    });
  });
}

interface ClassFigure { name: ClassName; configured_mbit: number; achieved_mbit: number; alone_mbit: number; ceil_mbit: number }

/** The textbook tree on a lab of its own: each class's median rate together and alone. */
async function textbook(): Promise<ClassFigure[]> {
  const prefix = uniquePrefix("b");
  const lab = resolve(qosLab(prefix));
  const ns = (node: string) => `${prefix}-${node}`;
  try {
    applyAll(lab);
    for (const c of Object.values(CLASSES)) must("ip", ["netns", "exec", ns(c.from), "sysctl", "-q", "-w", "net.ipv4.tcp_no_metrics_save=1"]);
    for (const c of Object.values(CLASSES)) must("ip", ["netns", "exec", ns("rx"), "iperf3", "-s", "-D", "-p", String(c.port)]);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const names = Object.keys(CLASSES) as ClassName[];
    const together: Record<ClassName, number[]> = { a: [], b: [], c: [] };
    const alone: Record<ClassName, number[]> = { a: [], b: [], c: [] };
    for (let r = 0; r < RUNS; r++) {
      process.stderr.write(`qos: textbook run ${r + 1} of ${RUNS}\n`);
      const rates = await Promise.all(names.map((n) => iperf(ns(CLASSES[n].from), CLASSES[n].port)));
      names.forEach((n, i) => together[n].push(rates[i]));
      for (const n of names) alone[n].push(await iperf(ns(CLASSES[n].from), CLASSES[n].port));
    }
    return names.map((n) => ({ name: n, configured_mbit: CLASSES[n].mbit, achieved_mbit: median(together[n]), alone_mbit: median(alone[n]), ceil_mbit: CEIL_MBIT }));
  } finally {
    cleanupPrefix(prefix);
  }
}

/** A lab with one guest whose NIC carries a tree of a root and BIG - 1 leaves of 1 Mbit/s, each matched by a port. */
function bigTree(prefix: string): { lab: ResolvedLab; lines: string[]; dev: string } {
  const lab = new Lab(new TerraformStack(new App(), "bench"), prefix, { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const net = lab.addTenant("t").addNetwork("net", { cidr: "10.30.0.0/24" });
  const rx = lab.addGuest("rx", { host: h1, nics: [{ segment: net, address: "10.30.0.10" }] });
  const tree = lab.addQosPolicy("big", { rate: Rate.mbit(BIG) });
  let last = tree.addClass("l1", { rate: Rate.mbit(1) });
  last.addMatch({ protocol: "tcp", destinationPort: 10_001 });
  for (let i = 2; i < BIG; i++) {
    last = tree.addClass(`l${i}`, { rate: Rate.mbit(1) });
    last.addMatch({ protocol: "tcp", destinationPort: 10_000 + i });
  }
  tree.setDefault(last);
  tree.applyTo(rx, { direction: "ingress" });
  const resolved = resolve(lab);
  const policy = resolved.qosPolicies[0];
  const a = policy.attachments[0];
  return { lab: resolved, lines: tcBatch(policy, a.dev), dev: a.dev };
}

/** Builds the tree on a dummy device in a namespace of its own, by one batch and by one tc per command. */
function applyTimes(): { commands: number; classes: number; batch_s: number; per_class_s: number } {
  const prefix = uniquePrefix("b");
  const netns = `${prefix}-tc`;
  const { lines, dev } = bigTree(prefix);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-tc-"));
  const batch = path.join(dir, "batch");
  const script = path.join(dir, "per-class.sh");
  fs.writeFileSync(batch, lines.join("\n") + "\n");
  fs.writeFileSync(script, "set -e\n" + lines.map((l) => `tc ${l}`).join("\n") + "\n");
  try {
    must("ip", ["netns", "add", netns]);
    // An IFB, as the lab's egress shaping uses: this kernel may have no dummy devices.
    must("ip", ["-n", netns, "link", "add", dev, "type", "ifb"]);
    must("ip", ["-n", netns, "link", "set", dev, "up"]);
    const inNs = (...args: string[]) => must("ip", ["netns", "exec", netns, ...args]);
    const classes = () => inNs("tc", "class", "show", "dev", dev).split("\n").filter((l) => l.startsWith("class htb")).length;
    const clear = () => spawnSync("ip", ["netns", "exec", netns, "tc", "qdisc", "del", "dev", dev, "root"]);
    const byBatch: number[] = [];
    const byCall: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      clear();
      byBatch.push(seconds(() => inNs("tc", "-batch", batch)));
      if (classes() !== BIG) throw new Error(`the batch left ${classes()} classes, not ${BIG}`);
      clear();
      byCall.push(seconds(() => inNs("bash", script)));
      if (classes() !== BIG) throw new Error(`one tc per command left ${classes()} classes, not ${BIG}`);
    }
    return { commands: lines.length, classes: BIG, batch_s: median(byBatch), per_class_s: median(byCall) };
  } finally {
    spawnSync("ip", ["netns", "del", netns]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  const classes = await textbook();
  const total = classes.reduce((n, c) => n + c.achieved_mbit, 0);
  const sum = classes.reduce((n, c) => n + c.configured_mbit, 0);
  // A class's share of what the three got together, against its share of the configured rates.
  const errors = classes.map((c) => Math.abs(c.achieved_mbit / total / (c.configured_mbit / sum) - 1));
  console.log(`qos: the textbook tree (root ${CEIL_MBIT} Mbit/s), iperf3 TCP, medians of ${RUNS} runs of ${SECONDS} s, in Mbit/s`);
  console.log(`(payload limit: the configured rate less the headers, ${(PAYLOAD_OF_FRAME * 100).toFixed(1)} % of it for full frames)`);
  console.log("class   configured   payload limit   achieved (all three)   of limit   share error   alone   ceil");
  classes.forEach((c, i) => console.log(`${c.name.padEnd(5)}   ${c.configured_mbit.toFixed(1).padStart(10)}   ${(c.configured_mbit * PAYLOAD_OF_FRAME).toFixed(1).padStart(13)}   ${c.achieved_mbit.toFixed(1).padStart(20)}   ${((c.achieved_mbit / (c.configured_mbit * PAYLOAD_OF_FRAME)) * 100).toFixed(1).padStart(6)} %   ${(errors[i] * 100).toFixed(1).padStart(9)} %   ${c.alone_mbit.toFixed(1).padStart(5)}   ${c.ceil_mbit.toFixed(0).padStart(4)}`));
  console.log(`total   ${String(sum.toFixed(1)).padStart(10)}   ${(sum * PAYLOAD_OF_FRAME).toFixed(1).padStart(13)}   ${total.toFixed(1).padStart(20)}`);
  const applied = applyTimes();
  const speedup = applied.per_class_s / applied.batch_s;
  console.log(`\nbuilding a ${applied.classes}-class tree on one device (${applied.commands} tc commands, medians of ${RUNS})`);
  console.log(`one tc -batch             ${applied.batch_s.toFixed(3)} s`);
  console.log(`one tc per command        ${applied.per_class_s.toFixed(3)} s   (${speedup.toFixed(1)}x the batch)`);
  console.log(JSON.stringify({
    bench: "qos", runs: RUNS, seconds: SECONDS,
    classes: classes.map((c) => ({ name: c.name, configured_mbit: c.configured_mbit, achieved_mbit: Math.round(c.achieved_mbit * 10) / 10, alone_mbit: Math.round(c.alone_mbit * 10) / 10, ceil_mbit: c.ceil_mbit })),
    total_mbit: Math.round(total * 10) / 10, payload_of_frame: Math.round(PAYLOAD_OF_FRAME * 1000) / 1000,
    worst_share_error: Math.round(Math.max(...errors) * 1000) / 1000,
    apply: applied, batch_speedup_vs_per_class: Math.round(speedup * 10) / 10,
  }));
}
