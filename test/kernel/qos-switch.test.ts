import { spawn } from "child_process";
import { traceReport } from "../../lib/cli/trace";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { inventoryOf, renderLab } from "../../lib/render";
import { applyAll, runStage } from "../support/apply";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { MR, PORTS, RX, qosSwitchLab } from "./fixtures/qos-switch-lab";

/**
 * QoS on Open vSwitch ports (fixtures/qos-switch-lab.ts), on emulated hosts with the userspace
 * datapath: the textbook tree as linux-htb queues on h1's port of t-net with set_queue flows, and a
 * 10 Mbit/s OpenFlow meter on what h2's switch takes from t-metered.
 *
 * Not shown here, and so not claimed: the 3:1:6 split by queue. The userspace datapath chooses each
 * packet's queue (ofproto/trace shows set_queue and skb_priority) but sends through a packet socket,
 * which does not carry the priority to the kernel: measured, every byte lands in queue 0's class
 * while flows set queues 1 and 2. The split needs the kernel datapath (the openvswitch module),
 * which this machine lacks; the queues are built and the port's max-rate holds, which is shown.
 */
const p = uniquePrefix("k");
const r = qosSwitchLab(p).resolve();
if (!r.lab) throw new Error(formatIssues(r.issues));
const lab: ResolvedLab = r.lab;
const ns = (node: string) => `${p}-${node}`;
const host = (h: string) => lab.hosts.find((x) => x.name === h)!;
const cluster = lab.clusters[0];
const port = (network: string) => lab.segments.find((s) => s.name === network)!.ovsPort!;
const MBIT = 1e6;

/** One iperf3 client's received rate in Mbit/s (reverse: the server sends). */
function iperf(from: string, to: string, port: number, reverse = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ["netns", "exec", ns(from), "iperf3", "-c", to, "-p", String(port), "-t", "3", "-J", ...(reverse ? ["-R"] : [])];
    const c = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("exit", (code) => {
      try {
        if (code !== 0) throw new Error(`iperf3 from ${from} exited ${code}: ${out.slice(0, 300)}`);
        resolve(Math.round((JSON.parse(out).end.sum_received.bits_per_second / MBIT) * 10) / 10);
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function withOneRetry<T>(what: string, measure: () => Promise<T>, ok: (x: T) => boolean): Promise<T> {
  const first = await measure();
  if (ok(first)) return first;
  const second = await measure();
  console.log(`qos-switch: ${what} missed on the first run (${JSON.stringify(first)}), retried: ${JSON.stringify(second)}`);
  return second;
}

describe("QoS on Open vSwitch ports: linux-htb queues and a meter (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    applyAll(lab);
    for (const g of ["sa", "sb", "sc", "ma"]) run("ip", ["netns", "exec", ns(g), "sysctl", "-q", "-w", "net.ipv4.tcp_no_metrics_save=1"]);
    for (const port of Object.values(PORTS)) run("ip", ["netns", "exec", ns("rx"), "iperf3", "-s", "-D", "-p", String(port)]);
    run("ip", ["netns", "exec", ns("mr"), "iperf3", "-s", "-D", "-p", String(PORTS.a)]);
    await new Promise((done) => setTimeout(done, 300));
  }, 180_000);
  afterAll(() => cleanupPrefix(p));

  test("the port's linux-htb has a queue per class, rate and ceil as declared (queue 0 the default class)", () => {
    const classes = nsExec(ns("h1"), "tc", ["class", "show", "dev", port("t-net")]).stdout;
    expect(classes).toMatch(/class htb 1:fffe root rate 100Mbit ceil 100Mbit/);
    expect(classes).toMatch(/class htb 1:1 parent 1:fffe prio 0 rate 60Mbit ceil 100Mbit/);
    expect(classes).toMatch(/class htb 1:2 parent 1:fffe prio 0 rate 30Mbit ceil 100Mbit/);
    expect(classes).toMatch(/class htb 1:3 parent 1:fffe prio 0 rate 10Mbit ceil 100Mbit/);
    // The other network's port, without a policy, has none.
    expect(nsExec(ns("h1"), "tc", ["class", "show", "dev", port("t-metered")]).stdout).toBe("");
  });

  /** The datapath actions ofproto/trace reports on rx's host (h1), for a TCP SYN from `from` to `to`. */
  const actionsOnH1 = (from: string, to: number) => {
    const lines = traceReport(inventoryOf(lab), from, "rx", { tcp: to });
    const h1 = lines.slice(lines.findIndex((l) => l.startsWith("== on h1")));
    return h1.find((l) => l.startsWith("Datapath actions:"));
  };

  test.each([
    ["sa", PORTS.a, 1],
    ["sb", PORTS.b, 2],
  ] as const)("ofproto/trace: %s's TCP to rx port %i is put in queue %i on rx's host and leaves by t-net's port", (from, to, queue) => {
    expect(actionsOnH1(from, to)).toBe(`Datapath actions: set(skb_priority(0x${queue})),${port("t-net")}`);
  });

  test("ofproto/trace: sc's TCP to port 5203 (the default class) keeps queue 0 and reaches t-net's port", () => {
    expect(actionsOnH1("sc", PORTS.c)).toBe(`Datapath actions: ${port("t-net")}`);
  });

  test("the port's max-rate holds: three senders together get 90-100 Mbit/s, where the userspace switch alone carries well over 150", async () => {
    const measure = async () => {
      const [a, b, c] = await Promise.all([iperf("sa", RX, PORTS.a), iperf("sb", RX, PORTS.b), iperf("sc", RX, PORTS.c)]);
      return { a, b, c, total: Math.round((a + b + c) * 10) / 10 };
    };
    const got = await withOneRetry("max-rate", measure, (m) => m.total >= 90 && m.total <= 100);
    expect({ got, ok: got.total >= 90 && got.total <= 100 }).toEqual({ got, ok: true });
    // The control: the unshaped network between the same hosts carries well over the ceiling (more
    // than 1.5 times it, which a 100 Mbit/s shaper could never pass), so the ceiling is the shaper's, not
    // the path's. (Alone on this machine it carries 300-400; a loaded CI runner has measured 215.)
    const control = await iperf("ma", MR, PORTS.a, true);
    expect(control).toBeGreaterThan(150);
  }, 60_000);

  test("a meter of 10 Mbit/s on what h2's switch takes from t-metered holds within ±15 %; the other way is not metered (the control)", async () => {
    const got = await withOneRetry("meter 10", () => iperf("ma", MR, PORTS.a), (x) => Math.abs(x - 10) <= 1.5);
    expect(Math.abs(got - 10)).toBeLessThanOrEqual(1.5);
    expect(await iperf("ma", MR, PORTS.a, true)).toBeGreaterThan(30);
    const meters = run("ovs-ofctl", ["-O", "OpenFlow13", "dump-meters", `unix:${host("h2").ovsRunDir}/${cluster.integrationBridge}.mgmt`]);
    expect(meters).toMatch(/meter=1 kbps burst bands=\ntype=drop rate=10000 burst_size=2500/);
  }, 60_000);

  test("a second apply changes nothing: no QoS row, meter or flow is made again", () => {
    for (const s of renderLab(lab).filter((x) => x.id.startsWith("network/"))) {
      const res = runStage(lab, s, "apply");
      expect(res.status).toBe(0);
      expect(res.output).not.toMatch(/QoS of OVS port|meter \d+: (added|changed)|replaced in one bundle/);
    }
  });

  test("with the policies taken out of the code, the apply takes the port's QoS, its rows and the meter away", () => {
    const plain = qosSwitchLab(p, { policies: false }).resolve();
    if (!plain.lab) throw new Error(formatIssues(plain.issues));
    const vsctl = (h: string, ...args: string[]) => run("ovs-vsctl", [`--db=unix:${host(h).ovsRunDir}/db.sock`, ...args]).trim();
    // The control: they are there.
    expect(vsctl("h1", "--bare", "--columns=_uuid", "find", "qos", `external_ids:cloudnet-lab=${lab.prefix}`)).not.toBe("");
    // QoS and Queue are root tables: a row no port uses stays until destroyed. One the lab left
    // behind (a run cut short) goes; another tool's stays (the control).
    const orphan = vsctl("h1", "create", "queue", "other-config:max-rate=1000000", `external_ids:cloudnet-lab=${lab.prefix}`);
    const foreign = vsctl("h1", "create", "queue", "other-config:max-rate=1000000", "external_ids:owner=someone-else");
    for (const s of renderLab(plain.lab).filter((x) => x.id.startsWith("network/") || x.id.startsWith("converge"))) {
      const res = runStage(plain.lab, s, "apply");
      if (res.status !== 0) throw new Error(`apply of ${s.id} failed:\n${res.output}`);
    }
    expect(vsctl("h1", "get", "port", port("t-net"), "qos")).toBe("[]");
    expect(vsctl("h1", "--bare", "--columns=_uuid", "find", "qos", `external_ids:cloudnet-lab=${lab.prefix}`)).toBe("");
    expect(vsctl("h1", "--bare", "--columns=_uuid", "find", "queue", `external_ids:cloudnet-lab=${lab.prefix}`)).toBe("");
    expect(vsctl("h1", "--bare", "--columns=_uuid", "list", "queue")).not.toContain(orphan);
    expect(vsctl("h1", "--bare", "--columns=_uuid", "list", "queue")).toContain(foreign);
    vsctl("h1", "destroy", "queue", foreign);
    expect(nsExec(ns("h1"), "tc", ["class", "show", "dev", port("t-net")]).stdout).toBe("");
    const meters = run("ovs-ofctl", ["-O", "OpenFlow13", "dump-meters", `unix:${host("h2").ovsRunDir}/${cluster.integrationBridge}.mgmt`]);
    expect(meters).not.toContain("meter=1");
    // And the path still carries traffic, unshaped.
    expect(nsExec(ns("sa"), "ping", ["-c", "1", "-W", "2", RX]).status).toBe(0);
  });
});
