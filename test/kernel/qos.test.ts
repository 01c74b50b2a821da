import { spawn } from "child_process";
import { App, TerraformStack } from "cdktf";
import { Backend, Lab } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { applyAll, runStage } from "../support/apply";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { PORTS, RX, UX, qosLab } from "./fixtures/qos-lab";
import { qosEntries, qosReport, readCounters } from "../../lib/cli/qos";
import { inventoryOf } from "../../lib/render";
import { formatIssues as fmt } from "../../lib/model";

/**
 * Traffic control measured with iperf3 (TCP, 3 s per run) through the textbook HTB tree on traffic
 * to rx (fixtures/qos-lab.ts): 100 Mbit/s, children a 30, b 10, c 60, each with ceil 100. Each class
 * alone borrows up to the ceil; together they split 3:1:6. A token bucket of 20
 * Mbit/s on traffic from sd (through an IFB) holds too. Tolerances are the issue's: ±10 % of each
 * share. A run that misses is tried once more, and the retry is reported.
 */
const p = uniquePrefix("k");
const r = qosLab(p).resolve();
if (!r.lab) throw new Error(formatIssues(r.issues));
const lab: ResolvedLab = r.lab;
const ns = (node: string) => `${p}-${node}`;

/** The same lab with no QoS policy. */
function qosLabWithout(name: string): ResolvedLab {
  const l = qosLab(name, { policies: false }).resolve();
  if (!l.lab) throw new Error(fmt(l.issues));
  return l.lab;
}
const SECONDS = 3;
const MBIT = 1e6;

interface Run {
  /** Received, in Mbit/s. */
  readonly mbit: number;
  /** Sent in each second, in Mbit/s. */
  readonly perSecond: number[];
}

/** One iperf3 client's run of `seconds`, to rx (or `to`). */
function iperf(from: string, port: number, seconds = SECONDS, to = RX): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn("ip", ["netns", "exec", ns(from), "iperf3", "-c", to, "-p", String(port), "-t", String(seconds), "-J"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("exit", (code) => {
      try {
        if (code !== 0) throw new Error(`iperf3 from ${from} to port ${port} exited ${code}: ${out.slice(0, 300)}`);
        const j = JSON.parse(out);
        resolve({ mbit: j.end.sum_received.bits_per_second / MBIT, perSecond: j.intervals.map((i: { sum: { bits_per_second: number } }) => Math.round(i.sum.bits_per_second / 1e5) / 10) });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** One iperf3 client's received rate, in Mbit/s. */
async function client(from: string, port: number): Promise<number> {
  return (await iperf(from, port)).mbit;
}

/** Classes a, b, c are reached as sa to 5201, sb to 5202, sc to 5203. */
const FLOWS = { a: ["sa", PORTS.a], b: ["sb", PORTS.b], c: ["sc", PORTS.c] } as const;
type ClassName = keyof typeof FLOWS;

/** The classes' rates when those run at once. */
async function together(classes: readonly ClassName[]): Promise<Record<string, number>> {
  const rates = await Promise.all(classes.map((c) => client(FLOWS[c][0], FLOWS[c][1])));
  return Object.fromEntries(classes.map((c, i) => [c, Math.round(rates[i] * 10) / 10]));
}

/** `measure` until `ok` holds, at most twice; a retry is printed. */
async function withOneRetry<T>(what: string, measure: () => Promise<T>, ok: (x: T) => boolean): Promise<T> {
  const first = await measure();
  if (ok(first)) return first;
  const second = await measure();
  console.log(`qos: ${what} missed on the first run (${JSON.stringify(first)}), retried: ${JSON.stringify(second)}`);
  return second;
}

/** Each rate within ±10 % of its share (by `weights`) of what they got together, which is at least 90 of the 100 Mbit/s. */
function splits(rates: Record<string, number>, weights: Record<string, number>): boolean {
  const total = Object.keys(weights).reduce((n, c) => n + rates[c], 0);
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  return total >= 90 && Object.entries(weights).every(([c, w]) => Math.abs(rates[c] - (total * w) / sum) <= 0.1 * ((total * w) / sum));
}

describe("QoS: the textbook HTB tree and a token bucket, measured (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    applyAll(lab);
    // Each run starts afresh: TCP would otherwise start from the slow-start threshold the last run left.
    for (const g of ["sa", "sb", "sc", "sd", "ua", "ub", "uc"]) run("ip", ["netns", "exec", ns(g), "sysctl", "-q", "-w", "net.ipv4.tcp_no_metrics_save=1"]);
    for (const port of Object.values(PORTS)) run("ip", ["netns", "exec", ns("rx"), "iperf3", "-s", "-D", "-p", String(port)]);
    for (const port of [PORTS.a, PORTS.b, PORTS.c]) run("ip", ["netns", "exec", ns("ux"), "iperf3", "-s", "-D", "-p", String(port)]);
    await new Promise((done) => setTimeout(done, 300));
  }, 120_000);
  afterAll(() => cleanupPrefix(p));

  test("each class alone borrows up to its ceil: at least 90 % of 100 Mbit/s", async () => {
    for (const c of ["a", "b", "c"] as const) {
      const got = await withOneRetry(`${c} alone`, () => together([c]), (x) => x[c] >= 90);
      expect({ c, mbit: got[c] >= 90 ? "≥ 90" : got[c] }).toEqual({ c, mbit: "≥ 90" });
    }
  }, 60_000);

  test("all three at once split 3:1:6", async () => {
    const weights = { a: 30, b: 10, c: 60 };
    const got = await withOneRetry("3:1:6", () => together(["a", "b", "c"]), (x) => splits(x, weights));
    expect({ got, ok: splits(got, weights) }).toEqual({ got, ok: true });
  }, 60_000);

  test.each([
    ["a", "b", 30, 10],
    ["b", "c", 10, 60],
    ["a", "c", 30, 60],
  ] as const)("the pair %s+%s splits by their rates (%i:%i)", async (x, y, wx, wy) => {
    const weights = { [x]: wx, [y]: wy };
    const got = await withOneRetry(`${x}+${y}`, () => together([x, y]), (r) => splits(r, weights));
    expect({ got, ok: splits(got, weights) }).toEqual({ got, ok: true });
  }, 60_000);

  test("a class that stops gives its share to the one still sending, and gets it back when it restarts", async () => {
    // c sends for 9 s; a sends in seconds 0-3 and again in 6-9. c's rate, second by second, shows
    // the 60 Mbit/s a borrowed coming back to it and going again.
    const measure = async () => {
      const started = Date.now();
      const c = iperf("sc", PORTS.c, 9);
      const first = await iperf("sa", PORTS.a, 3);
      await new Promise((done) => setTimeout(done, Math.max(0, 6000 - (Date.now() - started))));
      const second = await iperf("sa", PORTS.a, 3);
      return { c: (await c).perSecond, a1: first.mbit, a2: second.mbit };
    };
    const share = (r: number, want: number) => Math.abs(r - want) <= 0.1 * want;
    // Seconds 1-2 and 7-8 (the first of each is a's TCP ramp) with a; 4-5 without.
    const verdict = (m: Awaited<ReturnType<typeof measure>>) => {
      const mean = (i: number) => (m.c[i] + m.c[i + 1]) / 2;
      return {
        "c with a": share(mean(1), 63.3),
        "c alone": mean(4) >= 90,
        "c with a again": share(mean(7), 63.3),
        "a before": share(m.a1, 31.7),
        "a after": share(m.a2, 31.7),
      };
    };
    const all = (v: Record<string, boolean>) => Object.values(v).every(Boolean);
    const got = await withOneRetry("stop and restart", measure, (m) => all(verdict(m)));
    expect({ got, verdict: verdict(got) }).toEqual({ got, verdict: Object.fromEntries(Object.keys(verdict(got)).map((k) => [k, true])) });
  }, 60_000);

  test("a token bucket of 20 Mbit/s on traffic from sd holds within ±10 %, and without it sd would send faster (the control)", async () => {
    const got = await withOneRetry("tbf 20", () => client("sd", PORTS.c), (x) => Math.abs(x - 20) <= 2);
    expect(Math.abs(got - 20)).toBeLessThanOrEqual(2);
    // The control: sc reaches the same port (class c, ceil 100) at far more than 20.
    expect(await client("sc", PORTS.c)).toBeGreaterThan(60);
    // The bucket sits on an IFB fed by sd's host-side device: sd cannot take it off from inside.
    const ifb = lab.qosPolicies.find((q) => q.name === "bucket")!.attachments[0];
    expect(nsExec(ns("h1"), "tc", ["qdisc", "show", "dev", ifb.dev]).stdout).toMatch(/tbf .* rate 20Mbit/);
  }, 60_000);

  test("a tenant's default limit holds on each of its guests' NICs, not shared among them; a guest's own policy wins over it", async () => {
    const near = (x: number, want: number) => Math.abs(x - want) <= 0.1 * want;
    const measure = async () => {
      const [ua, uc] = await Promise.all([iperf("ua", PORTS.a, SECONDS, UX), iperf("uc", PORTS.c, SECONDS, UX)]);
      const ub = await iperf("ub", PORTS.b, SECONDS, UX);
      return { ua: Math.round(ua.mbit * 10) / 10, uc: Math.round(uc.mbit * 10) / 10, ub: Math.round(ub.mbit * 10) / 10 };
    };
    const ok = (m: { ua: number; uc: number; ub: number }) => near(m.ua, 20) && near(m.uc, 20) && near(m.ub, 40);
    // ua and uc send at once and each gets 20 (a shared limit would give them 10 each); ub's own 40
    // is also the control that the probe measures above 20.
    const got = await withOneRetry("tenant default", measure, ok);
    expect({ got, ok: ok(got) }).toEqual({ got, ok: true });
    const own = lab.qosPolicies.find((q) => q.name === "tenant-default")!.attachments.map((a) => a.guest).sort();
    expect(own).toEqual(["ua", "uc", "ux"]);
  }, 60_000);

  test("cloudnet qos reads the live rates: class a borrowing up to the ceil while it sends alone, the others idle", async () => {
    const inventory = inventoryOf(lab);
    const entries = qosEntries(inventory, "rx");
    const sending = iperf("sa", PORTS.a, 4);
    await new Promise((done) => setTimeout(done, 1500));
    const before = readCounters(() => ns("h1"), entries);
    await new Promise((done) => setTimeout(done, 1000));
    const after = readCounters(() => ns("h1"), entries);
    const sent = await sending;
    const row = (name: string) => qosReport(inventory, entries, before, after, 1).find((l) => l.trim().startsWith(`${name} `))!.trim().split(/\s+/);
    // LIVE counts link-layer bytes, iperf3 payload: they differ by the headers (about 4 %).
    expect({ live: Number(row("a")[4]) >= 90, borrowed: Number(row("a")[6]) > 0, iperf: sent.mbit >= 90 }).toEqual({ live: true, borrowed: true, iperf: true });
    expect(Number(row("c")[4])).toBeLessThan(1);
    expect(Number(row("b")[4])).toBeLessThan(1);
  }, 30_000);

  test("a second apply changes nothing: the qdiscs are not rebuilt", () => {
    const qos = renderLab(lab).filter((s) => s.id.startsWith("qos/"));
    for (const s of qos) {
      const res = runStage(lab, s, "apply");
      expect(res.status).toBe(0);
      expect(res.output).not.toContain("built from one batch");
    }
  });

  test("with the policies taken out of the code, the host's converge removes their qdiscs and the IFB; another tool's qdisc stays byte for byte", () => {
    // Another tool's device on h1 with a qdisc of its own.
    run("ip", ["-n", ns("h1"), "link", "add", "other0", "type", "veth", "peer", "name", "other1"]);
    run("ip", ["-n", ns("h1"), "link", "set", "other0", "up"]);
    run("ip", ["netns", "exec", ns("h1"), "tc", "qdisc", "add", "dev", "other0", "root", "handle", "1:", "tbf", "rate", "5mbit", "burst", "5kb", "latency", "70ms"]);
    const qdiscs = () => nsExec(ns("h1"), "tc", ["qdisc", "show"]).stdout;
    const foreign = () => qdiscs().split("\n").filter((l) => / dev other[01] /.test(l)).join("\n");
    const foreignBefore = foreign();
    expect(foreignBefore).toMatch(/tbf 1: dev other0 root/);
    const rx = lab.qosPolicies[0].attachments[0];
    const bucket = lab.qosPolicies.find((q) => q.name === "bucket")!.attachments[0];
    // The control: the lab's qdiscs are there.
    expect(qdiscs()).toMatch(new RegExp(`htb [0-9a-f]+: dev ${rx.dev} root`));
    expect(qdiscs()).toMatch(new RegExp(`ingress ffff: dev ${bucket.hostDev} `));
    const plain = qosLabWithout(p);
    for (const s of renderLab(plain).filter((x) => x.id.startsWith("converge"))) {
      const res = runStage(plain, s, "apply");
      if (res.status !== 0) throw new Error(`apply of ${s.id} failed:\n${res.output}`);
    }
    expect(qdiscs()).not.toMatch(new RegExp(`htb [0-9a-f]+: dev ${rx.dev} `));
    expect(qdiscs()).not.toMatch(new RegExp(`ingress ffff: dev ${bucket.hostDev} `));
    expect(nsExec(ns("h1"), "ip", ["link", "show", "dev", bucket.dev]).status).not.toBe(0);
    expect(foreign()).toBe(foreignBefore);
  });
});

/**
 * Impairments need sch_netem, which some kernels are built without (this machine's among them). An
 * apply that needs it says so and changes nothing; where the kernel has it, the delay is measured.
 */
describe("QoS: netem is asked for before anything changes (kernel)", () => {
  const q = uniquePrefix("k");
  const nsq = (node: string) => `${q}-${node}`;
  const build = (netem: boolean): ResolvedLab => {
    const l = new Lab(new TerraformStack(new App(), "kernel"), q, { backend: Backend.emulated() });
    const net = l.addTenant("t").addNetwork("net", { cidr: "10.32.0.0/24" });
    const g1 = l.addGuest("g1", { host: l.addHost("h1"), nics: [{ segment: net, address: "10.32.0.11" }] });
    l.addGuest("g2", { host: "h1", nics: [{ segment: net, address: "10.32.0.12" }] });
    if (netem) l.addQosPolicy("wan", { kind: "netem", delayMs: 30 }).applyTo(g1, { direction: "egress" });
    const res = l.resolve();
    if (!res.lab) throw new Error(fmt(res.issues));
    return res.lab;
  };
  beforeAll(() => requireRoot());
  afterAll(() => cleanupPrefix(q));

  test("on a kernel without netem the apply fails naming it and leaves the device as it was; with netem, the delay holds", () => {
    const plain = build(false);
    applyAll(plain);
    const rtt = () => {
      const out = nsExec(nsq("g1"), "ping", ["-c", "5", "-i", "0.2", "-q", "10.32.0.12"]).stdout;
      return Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? NaN);
    };
    const before = rtt();
    expect(before).toBeLessThan(5);
    // Whether this kernel has netem, asked independently of the lab's probe.
    run("ip", ["-n", nsq("h1"), "link", "add", "kprobe0", "type", "ifb"]);
    const hasNetem = nsExec(nsq("h1"), "tc", ["qdisc", "add", "dev", "kprobe0", "root", "netem"]).status === 0;
    run("ip", ["-n", nsq("h1"), "link", "del", "kprobe0"]);
    const lab2 = build(true);
    const stage = renderLab(lab2).find((s) => s.id === "qos/g1")!;
    const links = () => nsExec(nsq("h1"), "ip", ["-o", "link"]).stdout.split("\n").map((l) => l.split(": ")[1]).sort().join(" ");
    const linksBefore = links();
    const res = runStage(lab2, stage, "apply");
    if (hasNetem) {
      expect(res.status).toBe(0);
      expect(rtt()).toBeGreaterThanOrEqual(30);
    } else {
      expect(res.status).not.toBe(0);
      expect(res.output).toContain("this host's kernel has no qdisc netem");
      expect(res.output).toContain("modprobe -a sch_netem");
      // Nothing changed: no IFB, no ingress redirect, the probe device gone, the delay not there.
      expect(links()).toBe(linksBefore);
      expect(nsExec(nsq("h1"), "tc", ["qdisc", "show", "ingress"]).stdout).toBe("");
      expect(rtt()).toBeLessThan(5);
    }
  }, 60_000);
});
