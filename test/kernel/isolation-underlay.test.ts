import { ChildProcess, spawn } from "child_process";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { runStage } from "../support/apply";
import { cleanupPrefix, nsExec, run, tryRun, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { HOST_ACCESS_PORT, isolationLab } from "./fixtures/isolation-lab";

/**
 * The underlay and the hosts are out of the tenants' reach (fixtures/isolation-lab.ts, no security
 * group anywhere), with raw packets and real TCP connects, once with the networks on Linux VXLAN
 * devices and once on Open vSwitch (where the tunnels end on an address of their own, which the
 * attacks then aim at):
 * a. a hostile tenant's guest cannot inject a VXLAN datagram (acme's VNI, an inner frame to acme's
 *    guest) into acme's segment: not through its nat router's masquerade (which would make it leave
 *    h1 from h1's own underlay address, a legitimate peer), not from a routed segment, not to its
 *    own gateway host through the router link, not to its own host over the bridge (the weak host
 *    model), also with a forged outer source address of a legitimate peer;
 * b. neither can an external on the fabric, nor a lab host that is a VXLAN peer for another segment only;
 * c. a guest forging the source MAC of a remote guest or of the router moves no forwarding entry:
 *    the victims' traffic still reaches them and none of it reaches the forger;
 * d. guests reach no socket of their host except the segment's hostAccess ports, and those only
 *    through their router: not over the bridge, and not on a host without a gateway;
 * e. nor the host's other networks (a docker0 with a container behind it).
 * Each attack is sent 20 times and must arrive 0 times; in the same test a control sends the same
 * packet where it is allowed and must see at least 18 arrive, so probe and capture are proven.
 * Not covered, by design: a node on the fabric itself forging a lab host's underlay address (the
 * underlay is trusted, as a datacenter's is; the emulated externals just happen to share it).
 */

const COUNT = 20;
const ENOUGH = 18;
/** UDP port of the probes (inner packets and plain ones), found again by the captures. */
const PROBE_PORT = 9999;
const BROADCAST = "ff:ff:ff:ff:ff:ff";

/** A device's MAC, as the kernel has it (bridges' and routers' MACs are the kernel's, not the model's). */
const macOf = (netns: string, dev: string) => run("ip", ["-n", netns, "-br", "link", "show", "dev", dev]).split(/\s+/)[2];

/**
 * Sends `count` probes, each carrying `CNPROBE:<tag>:<i>;`. `to`: an ordinary UDP socket, so the
 * kernel routes (and NATs) it; `frame`: whole Ethernet/IPv4/UDP frames written on a link with the
 * addresses given (any source, any next hop). With `vxlan`, each probe is wrapped as an inner
 * Ethernet/IPv4/UDP frame (to PROBE_PORT) behind a VXLAN header with that VNI.
 */
const SEND = `
import json, socket, struct, sys, time

def mac(m): return bytes.fromhex(m.replace(":", ""))
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:] + payload
def udp(sport, dport, payload):  # checksum 0: "none", valid over IPv4
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
def frame(f, payload):
    packet = ipv4(f["src"], f["dst"], 17, udp(f.get("sport", 40000), f["dport"], payload))
    return mac(f["dstMac"]) + mac(f["srcMac"]) + struct.pack("!H", 0x0800) + packet
def vxlan(vni, inner):  # flags 0x08 (VNI valid), the VNI in the top 24 bits of the second word
    return struct.pack("!II", 0x08000000, vni << 8) + inner

spec = json.loads(sys.argv[1])
if "to" in spec:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send = lambda p: s.sendto(p, (spec["to"]["address"], spec["to"]["port"]))
else:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((spec["frame"]["dev"], 0))
    send = lambda p: s.send(frame(spec["frame"], p))
for i in range(spec["count"]):
    probe = ("CNPROBE:%s:%d;" % (spec["tag"], i)).encode()
    send(vxlan(spec["vxlan"]["vni"], frame(spec["vxlan"]["inner"], probe)) if "vxlan" in spec else probe)
    time.sleep(spec.get("interval", 0.002))
`;

/**
 * Prints "ready", then a line per arrival. `udp`: what a socket bound to every address (IPv4 and
 * IPv6) on PROBE_PORT receives. `link DEV MAC...`: frames arriving on DEV: IPv4 UDP to PROBE_PORT
 * ("tag ..."), and frames addressed to one of the MACs ("to MAC").
 */
const CAPTURE = `
import socket, sys
port, mode = int(sys.argv[1]), sys.argv[2]
def report(data):
    if data.startswith(b"CNPROBE:"): print("tag", data[8:data.find(b";")].decode(), flush=True)
if mode == "udp":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    print("ready", flush=True)
    while True: report(s.recv(65535))
watched = {bytes.fromhex(m.replace(":", "")) for m in sys.argv[4:]}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((sys.argv[3], 0))
print("ready", flush=True)
while True:
    data, address = s.recvfrom(65535)
    if address[2] == socket.PACKET_OUTGOING: continue
    if data[:6] in watched: print("to", data[:6].hex(":"), flush=True)
    if data[12:14] == b"\\x08\\x00" and data[23] == 17:
        u = 14 + (data[14] & 15) * 4
        if int.from_bytes(data[u + 2:u + 4], "big") == port: report(data[u + 8:])
`;

interface Probe {
  readonly tag: string;
  readonly count?: number;
  readonly interval?: number;
  readonly to?: { address: string; port: number };
  readonly frame?: { dev: string; dstMac: string; srcMac: string; src: string; dst: string; dport: number };
  readonly vxlan?: { vni: number; inner: { dstMac: string; srcMac: string; src: string; dst: string; dport: number } };
}

function send(netns: string, probe: Probe): void {
  const r = nsExec(netns, "python3", ["-", JSON.stringify({ count: COUNT, ...probe })], SEND);
  if (r.status !== 0) throw new Error(`sending ${probe.tag} from ${netns} failed: ${r.stderr}`);
}

const children: ChildProcess[] = [];

/** A Python process in `netns` reading its script from stdin; killed in afterAll at the latest. */
function python(netns: string, script: string, args: readonly string[]): ChildProcess {
  const child = spawn("ip", ["netns", "exec", netns, "python3", "-", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  child.stdin!.end(script);
  return child;
}

function sendInBackground(netns: string, probe: Probe): ChildProcess {
  return python(netns, SEND, [JSON.stringify({ count: COUNT, ...probe })]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` or the deadline; returns whether it got there. */
async function until(done: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

class Capture {
  private readonly lines: string[] = [];

  private constructor(private readonly child: ChildProcess) {}

  /** A capture in `netns` (see CAPTURE for `args`), resolved once it listens. */
  static async start(netns: string, ...args: string[]): Promise<Capture> {
    const child = python(netns, CAPTURE, [String(PROBE_PORT), ...args]);
    const c = new Capture(child);
    let partial = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      const parts = (partial + d).split("\n");
      partial = parts.pop()!;
      c.lines.push(...parts);
    });
    child.stderr!.on("data", (d) => (err += d));
    let exited = false;
    child.on("exit", () => (exited = true));
    if (!(await until(() => c.lines.includes("ready") || exited, 10_000)) || exited) {
      throw new Error(`capture ${args.join(" ")} in ${netns} did not start: ${err}`);
    }
    return c;
  }

  /** Distinct probes of `tag` that arrived. */
  probes(tag: string): number {
    return new Set(this.lines.filter((l) => l.startsWith(`tag ${tag}:`))).size;
  }

  framesTo(mac: string): number {
    return this.lines.filter((l) => l === `to ${mac}`).length;
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}


/** `counts` shows every attack at 0 and the control at ENOUGH or more. */
function expectOnlyControl(counts: Record<string, number>, control: string): void {
  const { [control]: arrived, ...attacks } = counts;
  expect(attacks).toEqual(Object.fromEntries(Object.keys(attacks).map((t) => [t, 0])));
  expect(arrived).toBeGreaterThanOrEqual(ENOUGH);
}

describe.each([
  ["Linux VXLAN devices", false],
  ["Open vSwitch (an overlay cluster)", true],
])("over %s", (_carrier, overlay) => {
  const p = uniquePrefix(overlay ? "w" : "u");
  const resolution = isolationLab(p, { overlay }).resolve();
  if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
  const lab: ResolvedLab = resolution.lab;
  const stages = renderLab(lab);
  const ns = (node: string) => `${p}-${node}`;


  const nic = (guest: string) => lab.guests.find((g) => g.name === guest)!.nics[0];
  const underlay = (host: string) => lab.hosts.find((h) => h.name === host)!.underlay.toString();
  /** Where the host's tunnels end: its underlay address, or on OVS's userspace datapath an address of their own. */
  const tunnelAddress = (host: string) => (lab.hosts.find((h) => h.name === host)!.tunnelEndpoint?.address ?? underlay(host)).toString();
  const segment = (name: string) => lab.segments.find((s) => s.name === name)!;
  const acme = segment("acme-web");
  const globexNat = segment("globex-nat");
  /** An inner frame from acme's guest `from` to acme's guest `to` (a legitimate pair of addresses). */
  function acmeFrame(from: string, to: string) {
    return { vni: acme.vni!, inner: { dstMac: nic(to).mac.toString(), srcMac: nic(from).mac.toString(), src: nic(from).address.toString(), dst: nic(to).address.toString(), dport: PROBE_PORT } };
  }

  /**
   * Captures at `victim`'s NIC while each attack is sent, then the control; waits for the control to
   * arrive (an attack sent before it, on a path no longer than the control's, would have arrived too)
   * and returns how many of each arrived.
   */
  async function arrivals(victim: string, attacks: ReadonlyArray<{ from: string; probe: Probe }>, control: { from: string; probe: Probe }): Promise<Record<string, number>> {
    const capture = await Capture.start(ns(victim), "link", nic(victim).guestDev);
    try {
      for (const a of attacks) send(ns(a.from), a.probe);
      send(ns(control.from), control.probe);
      await until(() => capture.probes(control.probe.tag) >= COUNT);
      await sleep(200);
      return Object.fromEntries([...attacks.map((a) => a.probe.tag), control.probe.tag].map((t) => [t, capture.probes(t)]));
    } finally {
      capture.stop();
    }
  }

  const vxlanTo = (host: string) => ({ address: tunnelAddress(host), port: 4789 });

  describe("the underlay and the hosts, out of the tenants' reach (kernel)", () => {
    beforeAll(async () => {
      requireRoot();
      for (const s of stages) {
        const r = runStage(lab, s, "apply");
        if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
      }
      // Docker on h1, as it sets itself up: docker0 with a container behind it, forwarding host-wide,
      // masquerade. Made after the lab's stages: their converge removes namespaces with the lab's prefix it does not know.
      const h1 = ns("h1");
      run("ip", ["-n", h1, "link", "add", "docker0", "type", "bridge"]);
      run("ip", ["-n", h1, "addr", "add", "172.17.0.1/16", "dev", "docker0"]);
      run("ip", ["-n", h1, "link", "set", "docker0", "up"]);
      run("ip", ["netns", "add", ns("ctr")]);
      run("ip", ["-n", h1, "link", "add", "vethctr", "type", "veth", "peer", "name", "eth0", "netns", ns("ctr")]);
      run("ip", ["-n", h1, "link", "set", "vethctr", "master", "docker0", "up"]);
      run("ip", ["-n", ns("ctr"), "addr", "add", "172.17.0.2/16", "dev", "eth0"]);
      run("ip", ["-n", ns("ctr"), "link", "set", "eth0", "up"]);
      run("ip", ["-n", ns("ctr"), "link", "set", "lo", "up"]);
      run("ip", ["-n", ns("ctr"), "route", "add", "default", "via", "172.17.0.1"]);
      run("ip", ["netns", "exec", h1, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      run("ip", ["netns", "exec", h1, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE"]);

      for (const g of ["a1", "a2"]) await startServer(ns(g), 8080, g);
      await startServer(ns("ctr"), 8080, "container");
      await startServer(ns("internet"), 9000, "internet");
      // Listeners on every address of h1 (`::`, IPv4 too): the hostAccess port and one that is not.
      await startServer(ns("h1"), HOST_ACCESS_PORT, "h1-access");
      await startServer(ns("h1"), HOST_ACCESS_PORT + 1, "h1-other");
    }, 120_000);

    afterAll(() => {
      stopServers();
      for (const c of children.splice(0)) c.kill("SIGKILL");
      cleanupPrefix(p);
    });

    const control = (tag: string, from: string, to: string, victim: string, sender: string) => ({ from, probe: { tag, to: vxlanTo(to), vxlan: acmeFrame(sender, victim) } });

    test("a: a hostile guest's VXLAN datagram for acme's VNI does not get through its nat router's masquerade (which would send it from h1's own underlay address)", async () => {
      const counts = await arrivals("a2", [
        { from: "b1", probe: { tag: "masquerade", to: vxlanTo("h2"), vxlan: acmeFrame("a1", "a2") } },
      ], control("peer-h1", "h1", "h2", "a2", "a1"));
      expectOnlyControl(counts, "peer-h1");
    });

    test("a: nor from a routed segment, where it would leave h1 with the guest's own address", async () => {
      const counts = await arrivals("a2", [
        { from: "r1", probe: { tag: "routed", to: vxlanTo("h2"), vxlan: acmeFrame("a1", "a2") } },
      ], control("peer-h1", "h1", "h2", "a2", "a1"));
      expectOnlyControl(counts, "peer-h1");
    });

    test("a: nor into its own gateway host, through the router link or over the bridge, also with a peer's address forged as the outer source", async () => {
      const router = globexNat.gateway!.router;
      const forged = { srcMac: nic("b1").mac.toString(), src: tunnelAddress("h2"), dst: tunnelAddress("h1"), dport: 4789, dev: nic("b1").guestDev };
      const counts = await arrivals("a1", [
        { from: "b1", probe: { tag: "router-link", to: vxlanTo("h1"), vxlan: acmeFrame("a2", "a1") } },
        { from: "b1", probe: { tag: "router-link-forged-h2", frame: { ...forged, dstMac: macOf(router.netns, "gw0") }, vxlan: acmeFrame("a2", "a1") } },
        { from: "b1", probe: { tag: "bridge-forged-h2", frame: { ...forged, dstMac: macOf(ns("h1"), globexNat.bridge) }, vxlan: acmeFrame("a2", "a1") } },
      ], control("peer-h2", "h2", "h1", "a1", "a2"));
      expectOnlyControl(counts, "peer-h2");
    });

    test("a: nor into its own (non-gateway) host over the bridge, by the weak host model, with its own or a forged peer's outer source", async () => {
      const frame = { dev: nic("b2").guestDev, dstMac: macOf(ns("h2"), globexNat.bridge), srcMac: nic("b2").mac.toString(), dst: tunnelAddress("h2"), dport: 4789 };
      const counts = await arrivals("a2", [
        { from: "b2", probe: { tag: "bridge", frame: { ...frame, src: nic("b2").address.toString() }, vxlan: acmeFrame("a1", "a2") } },
        { from: "b2", probe: { tag: "bridge-forged-h1", frame: { ...frame, src: tunnelAddress("h1") }, vxlan: acmeFrame("a1", "a2") } },
      ], control("peer-h1", "h1", "h2", "a2", "a1"));
      expectOnlyControl(counts, "peer-h1");
    });

    test("b: an external on the fabric, and h3 (a VXLAN peer of h2 for globex's segment only), cannot inject into acme's VNI", async () => {
      const counts = await arrivals("a2", [
        { from: "evil", probe: { tag: "external", to: vxlanTo("h2"), vxlan: acmeFrame("a1", "a2") } },
        { from: "h3", probe: { tag: "other-segments-peer", to: vxlanTo("h2"), vxlan: acmeFrame("a1", "a2") } },
      ], control("peer-h1", "h1", "h2", "a2", "a1"));
      expectOnlyControl(counts, "peer-h1");
    });

    test("c: a guest forging the source MAC of a remote guest and of the router moves no forwarding entry: their traffic still reaches them, none reaches the forger", async () => {
      const a2Mac = nic("a2").mac.toString();
      const routerMac = macOf(acme.gateway!.router.netns, "gw0");
      const x1 = nic("x1");
      // The forged frames are counted where they leave x1: its port on h1's bridge.
      const left = await Capture.start(ns("h1"), "link", x1.hostDev);
      const atForger = await Capture.start(ns("x1"), "link", x1.guestDev, a2Mac, routerMac);
      const forge = (tag: string, srcMac: string) => sendInBackground(ns("x1"), {
        tag, count: 100_000, interval: 0.005,
        frame: { dev: x1.guestDev, dstMac: BROADCAST, srcMac, src: x1.address.toString(), dst: "10.1.0.255", dport: PROBE_PORT },
      });
      const forgers = [forge("as-a2", a2Mac), forge("as-router", routerMac)];
      try {
        expect(await until(() => left.probes("as-a2") >= ENOUGH && left.probes("as-router") >= ENOUGH)).toBe(true);
        const received = (to: string) => Number(/(\d+) received/.exec(nsExec(ns("a1"), "ping", ["-c", String(COUNT), "-i", "0.05", "-W", "1", to]).stdout)?.[1] ?? 0);
        const toA2 = received(nic("a2").address.toString());
        const toRouter = received(acme.gateway!.address.toString());
        const tcp = connect(ns("a1"), nic("a2").address.toString(), 8080);
        const fdb = run("bridge", ["-n", ns("h1"), "fdb", "show", "br", acme.bridge]).split("\n");
        forgers.forEach((f) => f.kill("SIGKILL"));
        // The captures' lines waited in their pipes while the probes above held the event loop.
        await sleep(300);
        expect({ toA2: atForger.framesTo(a2Mac), toRouter: atForger.framesTo(routerMac) }).toEqual({ toA2: 0, toRouter: 0 });
        expect({ toA2, toRouter, tcp }).toEqual({ toA2: COUNT, toRouter: COUNT, tcp: "a2 10.1.0.11" });
        expect(fdb.filter((l) => l.startsWith(`${a2Mac} `) && / master /.test(l))).toEqual([expect.stringMatching(new RegExp(`^${a2Mac} dev ${acme.overlayDev} `))]);
        expect(fdb.filter((l) => l.startsWith(`${routerMac} `))).toEqual([expect.stringMatching(new RegExp(`^${routerMac} dev ${acme.gateway!.router.bridgePort} `))]);
        // The control: the forged frames did leave the forger, all along.
        expect(left.probes("as-a2")).toBeGreaterThanOrEqual(ENOUGH * 5);
        expect(left.probes("as-router")).toBeGreaterThanOrEqual(ENOUGH * 5);
      } finally {
        forgers.forEach((f) => f.kill("SIGKILL"));
        left.stop();
        atForger.stop();
        // Where the forgery did work (a learning bridge), the poisoned entries would break the tests after this one.
        for (const mac of [a2Mac, routerMac]) tryRun("bridge", ["-n", ns("h1"), "fdb", "del", mac, "dev", x1.hostDev, "master"]);
      }
    }, 30_000);

    test("d: a guest reaches its gateway host's hostAccess port through its router, and no other port, no other tenant's guest that port, and not over the bridge", () => {
      const h1 = underlay("h1");
      expect(connect(ns("a1"), h1, HOST_ACCESS_PORT)).toBe("h1-access 10.1.0.11");
      // From the other host too, through the overlay to the router.
      expect(connect(ns("a2"), h1, HOST_ACCESS_PORT)).toBe("h1-access 10.1.0.12");
      expect(connect(ns("a1"), h1, HOST_ACCESS_PORT + 1, { timeoutMs: 800 })).toBe("fail");
      // The listener itself answers on that address (from the fabric).
      expect(connect(ns("internet"), h1, HOST_ACCESS_PORT + 1)).toBe(`h1-other ${lab.externals.find((e) => e.name === "internet")!.address}`);
      // hostAccess is acme's: globex's guests on the same host get nothing.
      expect(connect(ns("b1"), h1, HOST_ACCESS_PORT, { timeoutMs: 800 })).toBe("fail");
      // Over the bridge (h1 as next hop by the bridge's MAC; the answer would come back through the router).
      const a1 = ns("a1");
      run("ip", ["-n", a1, "route", "add", `${h1}/32`, "dev", nic("a1").guestDev]);
      run("ip", ["-n", a1, "neigh", "replace", h1, "lladdr", macOf(ns("h1"), acme.bridge), "dev", nic("a1").guestDev, "nud", "permanent"]);
      try {
        expect(connect(a1, h1, HOST_ACCESS_PORT, { timeoutMs: 800 })).toBe("fail");
      } finally {
        tryRun("ip", ["-n", a1, "route", "del", `${h1}/32`]);
        tryRun("ip", ["-n", a1, "neigh", "del", h1, "dev", nic("a1").guestDev]);
      }
    }, 30_000);

    test("d: on a host without a gateway, a socket bound to every address gets nothing from the guests over their bridge, which has no address of its own", async () => {
      const h2 = ns("h2");
      const listener = await Capture.start(h2, "udp");
      const port = await Capture.start(h2, "link", nic("a2").hostDev);
      try {
        // What a guest can address through its bridge: the host's underlay address, the bridge's MAC as next hop.
        send(ns("a2"), { tag: "over-bridge", frame: { dev: nic("a2").guestDev, dstMac: macOf(h2, acme.bridge), srcMac: nic("a2").mac.toString(), src: nic("a2").address.toString(), dst: underlay("h2"), dport: PROBE_PORT } });
        // The control: the same datagram from the fabric.
        send(ns("evil"), { tag: "from-fabric", to: { address: underlay("h2"), port: PROBE_PORT } });
        await until(() => listener.probes("from-fabric") >= COUNT);
        await sleep(200);
        expect({ overBridge: listener.probes("over-bridge") }).toEqual({ overBridge: 0 });
        expect(listener.probes("from-fabric")).toBeGreaterThanOrEqual(ENOUGH);
        // The guest's datagrams did reach the bridge.
        expect(port.probes("over-bridge")).toBeGreaterThanOrEqual(ENOUGH);
      } finally {
        listener.stop();
        port.stop();
      }
      // No IPv4 address, and IPv6 off (so no link-local either): nothing on the bridge for a guest to address.
      expect(run("ip", ["-n", h2, "addr", "show", "dev", acme.bridge])).not.toMatch(/inet6? /);
    }, 30_000);

    test("e: a guest cannot reach a container behind the gateway host's docker0, which the host itself reaches, while its NAT to the outside works", () => {
      for (const g of ["a1", "b1", "r1"]) expect({ g, got: connect(ns(g), "172.17.0.2", 8080, { timeoutMs: 800 }) }).toEqual({ g, got: "fail" });
      expect(connect(ns("h1"), "172.17.0.2", 8080)).toBe("container 172.17.0.1");
      expect(connect(ns("a1"), "198.18.0.254", 9000)).toBe(`internet ${underlay("h1")}`);
    }, 30_000);
  });
});
