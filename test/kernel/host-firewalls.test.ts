import { ChildProcess, spawn } from "child_process";
import { App, TerraformStack } from "cdktf";
import { Backend, Lab, NetworkMode } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { conntrackZones } from "../../lib/render/host-guard";
import { runStage } from "../support/apply";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { dockerHost, forwardPolicies } from "./fixtures/docker-host";

/**
 * The lab on hosts whose firewalls are not its own (Issue 8, items 3 and 4), on Docker hosts
 * (FORWARD policy DROP, Docker's chains):
 * - hook precedence: another tool inserting its chain above the lab's hooks (FORWARD, INPUT, raw
 *   PREROUTING) does take effect, and the next apply of the host's firewall puts the lab's hook
 *   first again, exactly once, without touching the other tool's rules; an apply with the hooks
 *   already first changes nothing (not even the kernel's rule handles);
 * - conntrack zones: two tenants with the same subnet, the same addresses and the same TCP tuples
 *   at the same time get two entries in two zones (the zones `conntrackZones` gives their segments)
 *   on a gateway host and on a plain one, and each connection carries only its own tenant's data;
 *   a shared zone, forced for control, shows as one entry.
 */
const p = uniquePrefix("f");

function build(name: string): Lab {
  const stack = new TerraformStack(new App(), "kernel");
  const lab = new Lab(stack, name, { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const h2 = lab.addHost("h2");
  // Two tenants, one subnet, the same addresses; isolated, so they meet only in the hosts' tables.
  const red = lab.addTenant("red").addNetwork("net", { cidr: "10.0.0.0/24" });
  const blue = lab.addTenant("blue").addNetwork("net", { cidr: "10.0.0.0/24" });
  lab.addGuest("r1", { host: h1, nics: [{ segment: red, address: "10.0.0.11" }] });
  lab.addGuest("r2", { host: h2, nics: [{ segment: red, address: "10.0.0.12" }] });
  lab.addGuest("r3", { host: h1, nics: [{ segment: red, address: "10.0.0.13" }] });
  lab.addGuest("b1", { host: h1, nics: [{ segment: blue, address: "10.0.0.11" }] });
  lab.addGuest("b2", { host: h2, nics: [{ segment: blue, address: "10.0.0.12" }] });
  // A nat network with its gateway on h1: h1 is a gateway host, h2 is not.
  const ops = lab.addTenant("ops").addNetwork("edge", { cidr: "10.9.0.0/24", mode: NetworkMode.nat() });
  lab.addGuest("o1", { host: h1, nics: [{ segment: ops, address: "10.9.0.11" }] });
  lab.addGuest("o2", { host: h2, nics: [{ segment: ops, address: "10.9.0.12" }] });
  return lab;
}

const resolution = build(p).resolve();
if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
const lab: ResolvedLab = resolution.lab;
const stages = renderLab(lab);
const ns = (node: string) => `${p}-${node}`;
const isProvisioning = (s: Stage) => s.id === "helpers" || s.id === "fabric" || s.id.startsWith("host/");
const segment = (name: string) => lab.segments.find((s) => s.name === name)!;
const RED = segment("red-net");
const BLUE = segment("blue-net");

function apply(s: Stage): void {
  const r = runStage(lab, s, "apply");
  if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
}
const firewall = (host: string) => stages.find((s) => s.id === `firewall/${host}`)!;

const ipt = (host: string, cmd: string, ...args: string[]) => run("ip", ["netns", "exec", ns(host), cmd, "-w", ...args]);
/** The rules of a built-in chain as `-S` lists them, the policy line left out. */
const rulesOf = (host: string, cmd: string, table: string, chain: string) => ipt(host, cmd, "-t", table, "-S", chain).split("\n").filter((l) => l.startsWith("-A"));
const HOOKS = [
  { cmd: "iptables", table: "filter", chain: "FORWARD", hook: `-A FORWARD -j CN-${p}-FWD` },
  { cmd: "iptables", table: "filter", chain: "INPUT", hook: `-A INPUT -j CN-${p}-IN` },
  { cmd: "iptables", table: "raw", chain: "PREROUTING", hook: `-A PREROUTING -j CN-${p}-ZONE` },
  { cmd: "ip6tables", table: "filter", chain: "FORWARD", hook: `-A FORWARD -j CN-${p}-FWD` },
  { cmd: "ip6tables", table: "filter", chain: "INPUT", hook: `-A INPUT -j CN-${p}-IN` },
  { cmd: "ip6tables", table: "raw", chain: "PREROUTING", hook: `-A PREROUTING -j CN-${p}-ZONE` },
];

/** Each of `n` connections from `from` to `to`:`port` answered by `name`, or each one failing. */
function reaches(from: string, to: string, name: string, n = 3, port = 8080): "all" | "none" | string {
  const got = Array.from({ length: n }, () => connect(ns(from), to, port, { timeoutMs: 700 }));
  if (got.every((g) => g.startsWith(`${name} `))) return "all";
  if (got.every((g) => g === "fail")) return "none";
  return got.join(", ");
}

/**
 * Conntrack entries of TCP in a host namespace whose original tuple matches `orig` (e.g. { src, dport }),
 * as /proc/net/nf_conntrack lists them (the namespace's own table; no conntrack tool needed).
 */
function entries(host: string, orig: Partial<Record<"src" | "dst" | "sport" | "dport", string | number>>): string[] {
  const r = nsExec(ns(host), "cat", ["/proc/net/nf_conntrack"]);
  if (r.status !== 0) throw new Error(`conntrack table of ${host}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => / tcp /.test(l)).filter((l) => {
    // The first src=, dst=, sport= and dport= are the original direction's.
    const first = (k: string) => new RegExp(` ${k}=(\\S+)`).exec(l)?.[1];
    return Object.entries(orig).every(([k, v]) => first(k) === String(v));
  });
}
/** The zone of an entry; 0 when conntrack lists none. */
const zoneOf = (entry: string) => Number(/ zone=(\d+)/.exec(entry)?.[1] ?? 0);
/** An entry's tuples (both directions), without what may differ between two entries of one tuple: timers, flags, zone. */
const tupleOf = (entry: string) => entry.split(/\s+/).filter((w) => /^(src|dst|sport|dport)=/.test(w)).join(" ");

/** iptables-save of both families on h1, counters and comments left out. */
const saved = () => ["iptables-save", "ip6tables-save"].map((c) =>
  run("ip", ["netns", "exec", ns("h1"), c]).split("\n").filter((l) => !l.startsWith("#")).join("\n").replace(/\[\d+:\d+\]/g, "")).join("\n");
/** The kernel's handles of the rules in the built-in chains the hooks sit in, and in the foreign chains. */
function handles(): string {
  const chains = [["ip", "filter", "FORWARD"], ["ip", "filter", "INPUT"], ["ip", "raw", "PREROUTING"], ["ip6", "filter", "FORWARD"], ["ip6", "filter", "INPUT"], ["ip6", "raw", "PREROUTING"],
    ["ip", "filter", "FOREIGN-FWD"], ["ip", "filter", "FOREIGN-IN"], ["ip", "raw", "FOREIGN-RAW"], ["ip6", "filter", "FOREIGN-FWD"]];
  return chains.map(([family, table, chain]) => `${family} ${table} ${chain}\n${nsExec(ns("h1"), "nft", ["-a", "list", "chain", family, table, chain]).stdout
    .split("\n").filter((l) => l.includes("# handle")).map((l) => l.replace(/counter packets \d+ bytes \d+/, "counter")).join("\n")}`).join("\n");
}

/** A TCP server on a fixed address and port that answers each line with `<name> got <line>` and logs what it got. */
const SERVER = `
import socket, sys
name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port)); srv.listen(16)
print("ready", flush=True)
while True:
    c, peer = srv.accept()
    line = c.makefile("rb").readline().decode().strip()
    print("got %s from %s:%d" % (line, peer[0], peer[1]), flush=True)
    c.sendall(("%s got %s\\n" % (name, line)).encode())
    c.close()
`;

/**
 * A client bound to a fixed source address and port: connects, prints "connected", waits for a line
 * on stdin, then sends `token` and prints the reply.
 */
const CLIENT = `
import socket, sys
src, sport, dst, dport, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(5)
try:
    s.bind((src, sport)); s.connect((dst, dport))
    print("connected", flush=True)
    sys.stdin.readline()
    s.sendall((token + "\\n").encode())
    data = b""
    while not data.endswith(b"\\n"):
        chunk = s.recv(256)
        if not chunk: break
        data += chunk
    print("reply " + data.decode().strip(), flush=True)
except Exception as e:
    print("error %s" % e, flush=True)
s.close()
`;

const children: ChildProcess[] = [];
interface Proc { child: ChildProcess; out: () => string[] }
function python(netns: string, code: string, args: string[]): Proc {
  const child = spawn("ip", ["netns", "exec", netns, "python3", "-c", code, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const out: string[] = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => out.push(...d.split("\n").filter(Boolean)));
  return { child, out: () => [...out] };
}
/** Polls until `ok` holds, at most `ms`. */
async function until(what: string, ok: () => boolean, ms = 6000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const TENANTS = [{ tenant: "red", client: "r1", server: "r2" }, { tenant: "blue", client: "b1", server: "b2" }];
const servers = new Map<string, Proc>();

/**
 * From r1 and b1 (both 10.0.0.11, on h1) to r2 and b2 (both 10.0.0.12:7000, on h2), one connection
 * per tenant from each of `ports`, all open at the same time: identical tuples in both tenants.
 * Returns the conntrack entries of those tuples on each host while they are open, and what each
 * client got back once all had sent their token.
 */
async function sameTuples(ports: number[]): Promise<{ h1: string[]; h2: string[]; replies: Record<string, string[]>; got: Record<string, string[]>; sent: Record<string, string[]> }> {
  const before = Object.fromEntries(TENANTS.map((t) => [t.tenant, servers.get(t.tenant)!.out().length]));
  const clients = TENANTS.flatMap((t) => ports.map((port) => ({ ...t, port, token: `${t.tenant}-${port}-${Math.random().toString(36).slice(2, 8)}` })))
    .map((c) => ({ ...c, proc: python(ns(c.client), CLIENT, ["10.0.0.11", String(c.port), "10.0.0.12", "7000", c.token]) }));
  await until("every client connected (or failed)", () => clients.every((c) => c.proc.out().length > 0));
  const filter = (port: number) => ({ src: "10.0.0.11", dst: "10.0.0.12", sport: port, dport: 7000 });
  const h1 = ports.flatMap((port) => entries("h1", filter(port)));
  const h2 = ports.flatMap((port) => entries("h2", filter(port)));
  for (const c of clients) c.proc.child.stdin!.end("go\n");
  await until("every client's reply", () => clients.every((c) => c.proc.out().length > 1 || c.proc.out()[0]?.startsWith("error")), 15_000);
  const replies: Record<string, string[]> = {};
  for (const c of clients) (replies[c.tenant] ??= []).push(c.proc.out().slice(-1)[0].replace(c.token, "<own token>"));
  // What each tenant's server got, and what it should have: its own clients' tokens, from their ports.
  const got: Record<string, string[]> = {};
  const sent: Record<string, string[]> = {};
  for (const t of TENANTS) {
    got[t.tenant] = servers.get(t.tenant)!.out().slice(before[t.tenant]).sort();
    sent[t.tenant] = clients.filter((c) => c.tenant === t.tenant).map((c) => `got ${c.token} from 10.0.0.11:${c.port}`).sort();
  }
  return { h1, h2, replies, got, sent };
}

describe("host firewalls: hooks kept first, a conntrack zone per network (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    stages.filter(isProvisioning).forEach(apply);
    dockerHost(ns("h1"), 28);
    dockerHost(ns("h2"), 27);
    expect([forwardPolicies(ns("h1")), forwardPolicies(ns("h2"))]).toEqual(["DROP DROP", "DROP DROP"]);
    stages.filter((s) => !isProvisioning(s)).forEach(apply);
    for (const g of ["r1", "r2", "r3"]) await startServer(ns(g), 8080, g);
    for (const port of [8301, 8302]) await startServer(ns("r3"), port, "r3");
    for (const t of TENANTS) {
      const proc = python(ns(t.server), SERVER, [t.tenant, "10.0.0.12", "7000"]);
      await until(`server of ${t.tenant}`, () => proc.out().includes("ready"));
      servers.set(t.tenant, proc);
    }
  }, 120_000);

  afterAll(() => {
    stopServers();
    for (const c of children.splice(0)) c.kill("SIGKILL");
    cleanupPrefix(p);
  });

  test("after deploy every hook of the lab is the first rule of its built-in chain, once, on both hosts", () => {
    for (const host of ["h1", "h2"]) {
      for (const h of HOOKS) {
        const rules = rulesOf(host, h.cmd, h.table, h.chain);
        expect({ host, ...h, first: rules[0], copies: rules.filter((r) => r === h.hook).length }).toEqual({ host, ...h, first: h.hook, copies: 1 });
      }
    }
    // Docker's jumps are still there, below the lab's.
    expect(rulesOf("h1", "iptables", "filter", "FORWARD").slice(1)).toEqual(["-A FORWARD -j DOCKER-USER", "-A FORWARD -j DOCKER-FORWARD"]);
    expect(reaches("r1", "10.0.0.13", "r3")).toBe("all");
    expect(reaches("r1", "10.0.0.12", "r2")).toBe("all");
  });

  test("FORWARD: another tool's chain inserted above the lab's hook bites; the next apply puts the hook first again and leaves that chain be", () => {
    // Another tool drops the lab's bridged frames on h1, in both families, from rule 1 of FORWARD.
    for (const cmd of ["iptables", "ip6tables"]) {
      ipt("h1", cmd, "-N", "FOREIGN-FWD");
      ipt("h1", cmd, "-A", "FOREIGN-FWD", "-i", RED.bridge, "-j", "DROP");
      ipt("h1", cmd, "-I", "FORWARD", "1", "-j", "FOREIGN-FWD");
    }
    const r3ll = run("ip", ["-n", ns("r3"), "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).split(/\s+/)[3].split("/")[0];
    const ping6 = () => nsExec(ns("r1"), "ping", ["-6", "-c", "3", "-i", "0.2", "-W", "1", `${r3ll}%eth0`]).status;
    expect(reaches("r1", "10.0.0.13", "r3")).toBe("none");
    expect(ping6()).not.toBe(0);

    apply(firewall("h1"));
    for (const cmd of ["iptables", "ip6tables"]) {
      const rules = rulesOf("h1", cmd, "filter", "FORWARD");
      expect({ cmd, first: rules[0], copies: rules.filter((r) => r === `-A FORWARD -j CN-${p}-FWD`).length }).toEqual({ cmd, first: `-A FORWARD -j CN-${p}-FWD`, copies: 1 });
      // The other tool's rules are all there, in their order, below the lab's hook.
      expect({ cmd, rules: rules.slice(1, 2), chain: ipt("h1", cmd, "-S", "FOREIGN-FWD") })
        .toEqual({ cmd, rules: ["-A FORWARD -j FOREIGN-FWD"], chain: `-N FOREIGN-FWD\n-A FOREIGN-FWD -i ${RED.bridge} -j DROP\n` });
    }
    expect(reaches("r1", "10.0.0.13", "r3")).toBe("all");
    expect(ping6()).toBe(0);
  });

  test("INPUT: another tool dropping VXLAN above the lab's hook cuts the tunnel; the next apply accepts the lab's own tunnel first again", () => {
    ipt("h1", "iptables", "-N", "FOREIGN-IN");
    ipt("h1", "iptables", "-A", "FOREIGN-IN", "-p", "udp", "--dport", "4789", "-j", "DROP");
    ipt("h1", "iptables", "-I", "INPUT", "1", "-j", "FOREIGN-IN");
    expect(reaches("r1", "10.0.0.12", "r2")).toBe("none");
    // The same host's bridge still works: it is the tunnel that the foreign rule cut.
    expect(reaches("r1", "10.0.0.13", "r3")).toBe("all");

    apply(firewall("h1"));
    const rules = rulesOf("h1", "iptables", "filter", "INPUT");
    expect(rules[0]).toBe(`-A INPUT -j CN-${p}-IN`);
    expect(rules.filter((r) => r === `-A INPUT -j CN-${p}-IN`)).toHaveLength(1);
    expect(rules[1]).toBe("-A INPUT -j FOREIGN-IN");
    expect(ipt("h1", "iptables", "-S", "FOREIGN-IN")).toBe("-N FOREIGN-IN\n-A FOREIGN-IN -p udp -m udp --dport 4789 -j DROP\n");
    expect(reaches("r1", "10.0.0.12", "r2")).toBe("all");
  });

  test("raw PREROUTING: another tool's zone above the lab's hook takes the lab's frames; the next apply gives them their segment's zone again", () => {
    const zone = conntrackZones(lab).get(RED.name)!;
    expect(zone).not.toBe(7);
    ipt("h1", "iptables", "-t", "raw", "-N", "FOREIGN-RAW");
    ipt("h1", "iptables", "-t", "raw", "-A", "FOREIGN-RAW", "-i", RED.bridge, "-j", "CT", "--zone", "7");
    ipt("h1", "iptables", "-t", "raw", "-I", "PREROUTING", "1", "-j", "FOREIGN-RAW");
    // Each phase to a port of its own on r3, so that the entries of earlier connections (in TIME_WAIT) do not count.
    const toR3 = (port: number) => entries("h1", { src: "10.0.0.11", dst: "10.0.0.13", dport: port }).map(zoneOf);
    expect(toR3(8301)).toEqual([]);
    expect(reaches("r1", "10.0.0.13", "r3", 3, 8301)).toBe("all");
    // Three connections, three entries, all in the other tool's zone.
    expect(toR3(8301)).toEqual([7, 7, 7]);

    apply(firewall("h1"));
    const rules = rulesOf("h1", "iptables", "raw", "PREROUTING");
    expect(rules[0]).toBe(`-A PREROUTING -j CN-${p}-ZONE`);
    expect(rules.filter((r) => r === `-A PREROUTING -j CN-${p}-ZONE`)).toHaveLength(1);
    expect(rules).toContain("-A PREROUTING -j FOREIGN-RAW");
    expect(ipt("h1", "iptables", "-t", "raw", "-S", "FOREIGN-RAW")).toBe(`-N FOREIGN-RAW\n-A FOREIGN-RAW -i ${RED.bridge} -j CT --zone 7\n`);
    expect(toR3(8302)).toEqual([]);
    expect(reaches("r1", "10.0.0.13", "r3", 3, 8302)).toBe("all");
    expect(toR3(8302)).toEqual([zone, zone, zone]);
  });

  test("an apply with every hook already first changes nothing: the same rules, and the kernel's same rule handles in the built-in and foreign chains", () => {
    const [rulesBefore, handlesBefore] = [saved(), handles()];
    expect(handlesBefore).toContain("FOREIGN-FWD");
    expect(handlesBefore.split("\n").filter((l) => l.includes(`CN-${p}-`)).length).toBe(6);
    apply(firewall("h1"));
    expect(saved()).toBe(rulesBefore);
    expect(handles()).toBe(handlesBefore);
    for (const h of HOOKS) expect(rulesOf("h1", h.cmd, h.table, h.chain)[0]).toBe(h.hook);
  });

  test("two tenants, same subnet, same tuples at the same time: two conntrack entries in their segments' zones on the gateway host and on the other, each connection with its own data", async () => {
    // The foreign zone of the test above sits below the lab's hook now and gives no frame its zone; it goes anyway.
    nsExec(ns("h1"), "iptables", ["-w", "-t", "raw", "-D", "PREROUTING", "-j", "FOREIGN-RAW"]);
    const zones = conntrackZones(lab);
    const want = [zones.get(RED.name)!, zones.get(BLUE.name)!];
    expect(new Set([...want, ...lab.segments.map((s) => zones.get(s.name))]).size).toBe(lab.segments.length);
    expect(lab.segments.find((s) => s.gateway)?.gateway?.host).toBe("h1");
    for (const host of ["h1", "h2"]) {
      expect(ipt(host, "iptables", "-t", "raw", "-S", `CN-${p}-ZONE`)).toContain(`-i ${RED.bridge} -m physdev --physdev-is-in -j CT --zone ${want[0]}`);
    }

    const ports = [40001, 40002, 40003];
    const r = await sameTuples(ports);
    for (const host of ["h1", "h2"] as const) {
      // One entry per tenant and tuple: 6, in exactly the two segments' zones, 3 each.
      expect({ host, zones: r[host].map(zoneOf).sort() }).toEqual({ host, zones: [...want, ...want, ...want].sort() });
      // The control that the tuples are the same: pairwise identical but for the zone.
      for (const port of ports) {
        const same = r[host].filter((e) => e.includes(` sport=${port} `));
        expect({ host, port, n: same.length, tuples: new Set(same.map(tupleOf)).size }).toEqual({ host, port, n: 2, tuples: 1 });
      }
    }
    expect(r.replies).toEqual({ red: ports.map(() => "reply red got <own token>"), blue: ports.map(() => "reply blue got <own token>") });
    expect(r.got).toEqual(r.sent);
    expect(r.sent.red).toHaveLength(ports.length);
  }, 60_000);

  test("control: with one zone for both tenants (forced by another tool's rule above the lab's), the same tuples show as one entry", async () => {
    for (const host of ["h1", "h2"]) {
      ipt(host, "iptables", "-t", "raw", "-I", "PREROUTING", "1", "-i", BLUE.bridge, "-j", "CT", "--zone", "5");
      ipt(host, "iptables", "-t", "raw", "-I", "PREROUTING", "1", "-i", RED.bridge, "-j", "CT", "--zone", "5");
    }
    try {
      const ports = [40011, 40012, 40013];
      const r = await sameTuples(ports);
      for (const host of ["h1", "h2"] as const) {
        expect({ host, zones: r[host].map(zoneOf) }).toEqual({ host, zones: ports.map(() => 5) });
      }
      // (Measured: both tenants' data still arrive then, as nothing here drops what conntrack finds out
      // of window; the shared entry is what the zones prevent, and it shows in the table.)
    } finally {
      for (const host of ["h1", "h2"]) {
        for (const br of [RED.bridge, BLUE.bridge]) ipt(host, "iptables", "-t", "raw", "-D", "PREROUTING", "-i", br, "-j", "CT", "--zone", "5");
      }
    }
  }, 60_000);
});
