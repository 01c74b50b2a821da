import { spawn } from "child_process";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { Tunnel } from "../../lib";
import { runStage } from "../support/apply";
import { framesSeen } from "../support/capture";
import { liveObjects } from "../support/live-objects";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { overlayLab } from "./fixtures/overlay-lab";
import { InventoryStore } from "../../lib/cli/inventory-store";
import { traceReport } from "../../lib/cli/trace";


/** Writes `count` Ethernet frames (IPv4/UDP to port 9999, payload `tag:i`) on eth0, under the 802.1Q tags given (outermost first). */
const SEND_TAGGED = `
import socket, struct, sys
dst, src, ip_src, ip_dst, tags, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7])
mac = lambda m: bytes.fromhex(m.replace(":", ""))
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
vlans = b"".join(struct.pack("!HH", 0x8100, int(v)) for v in tags.split(",") if v)
for i in range(count):
    payload = ("%s:%d;" % (tag, i)).encode()
    udp = struct.pack("!HHHH", 40000, 9999, 8 + len(payload), 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, socket.inet_aton(ip_src), socket.inet_aton(ip_dst))
    h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
    s.send(mac(dst) + mac(src) + vlans + struct.pack("!H", 0x0800) + h + udp)
`;

/** Prints "ready", then each datagram's payload that arrives on UDP port 9999. */
const LISTEN_UDP = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
print("ready", flush=True)
while True: print(s.recv(2048).decode(errors="replace"), flush=True)
`;

/**
 * Tenant networks on Open vSwitch across three emulated hosts (each with its own ovsdb-server and
 * ovs-vswitchd, userspace datapath), over VXLAN, over GRE and VLAN-segmented (trunked between the
 * hosts' provider bridges over the fabric): every same-tenant pair connects across
 * hosts, answered by the guest it meant (the other tenant has a guest at the same address), no
 * cross-tenant pair ever does, and teardown leaves no daemon, bridge, link or file.
 */
describe.each([
  ["VXLAN", Tunnel.vxlan(), false],
  ["GRE", Tunnel.gre(), false],
  ["VLAN", Tunnel.vxlan(), true],
])("overlay cluster over %s (kernel)", (kind, tunnel, vlan) => {
  const p = uniquePrefix("o");
  const resolution = overlayLab(p, tunnel, true, vlan).resolve();
  if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
  const lab: ResolvedLab = resolution.lab;
  const stages = renderLab(lab);
  const ns = (node: string) => `${p}-${node}`;
  const guests = ["b1", "b2", "b3", "r1", "r2", "r3", "r4"];

  /** Who answered a connection ("fail" for none): the server's name, without the client address it adds. */
  const answer = (from: string, to: string) => connect(ns(from), to, 8080).split(" ")[0];

  function run1(s: Stage, phase: "apply" | "teardown"): void {
    const r = runStage(lab, s, phase);
    if (r.status !== 0) throw new Error(`${phase} of ${s.id} failed:\n${r.output}`);
  }

  beforeAll(async () => {
    requireRoot();
    stages.forEach((s) => run1(s, "apply"));
    for (const g of guests) await startServer(ns(g), 8080, g);
  }, 120_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("each guest reaches its own tenant's guests on every other host, and they answer", () => {
    for (const [tenant, n] of [["b", 3], ["r", 3]] as const) {
      for (let from = 1; from <= n; from++) {
        for (let to = 1; to <= n; to++) {
          if (from === to) continue;
          expect([`${tenant}${from}`, answer(`${tenant}${from}`, `10.0.0.${10 + to}`)]).toEqual([`${tenant}${from}`, `${tenant}${to}`]);
        }
      }
    }
    expect(nsExec(ns("b1"), "ping", ["-c", "2", "-W", "2", "10.0.0.13"]).status).toBe(0);
  });

  test(`full-size frames cross: the network's MTU is the underlay's ${vlan ? "(a VLAN tag adds no IP overhead)" : `less ${kind}'s overhead`}, and a DF ping of that size passes`, () => {
    const mtu = lab.segments.find((s) => s.name === "blue-app")!.mtu;
    expect(mtu).toBe({ VXLAN: 1450, GRE: 1458, VLAN: 1500 }[kind]);
    expect(nsExec(ns("b1"), "ip", ["-o", "link", "show", "eth0"]).stdout).toContain(` mtu ${mtu} `);
    // 20 bytes of IP and 8 of ICMP: the largest payload that fits, unfragmented, answered from h3.
    expect(nsExec(ns("b1"), "ping", ["-c", "2", "-W", "2", "-M", "do", "-s", String(mtu - 28), "10.0.0.13"]).status).toBe(0);
  });

  test("no guest reaches the other tenant: an address only red has answers red, never blue", () => {
    expect(answer("r1", "10.0.0.50")).toBe("r4");
    expect(answer("r3", "10.0.0.50")).toBe("r4");
    for (const b of ["b1", "b2", "b3"]) expect([b, answer(b, "10.0.0.50")]).toEqual([b, "fail"]);
  });

  const ports = (bridge: string) => {
    const dir = lab.hosts.find((h) => h.name === "h1")!.ovsRunDir!;
    return run("ovs-vsctl", [`--db=unix:${dir}/db.sock`, "list-ports", bridge]).split("\n").filter(Boolean).sort();
  };

  if (!vlan) {
    test(`the tunnel bridges carry ${kind} ports to exactly the other hosts`, () => {
      const dir = lab.hosts.find((h) => h.name === "h1")!.ovsRunDir!;
      expect(ports(lab.clusters[0].tunnelBridge)).toEqual([`${p}n-h2`, `${p}n-h3`, `${p}pi-sdn`].sort());
      expect(run("ovs-vsctl", [`--db=unix:${dir}/db.sock`, "get", "interface", `${p}n-h2`, "type"]).trim()).toBe(kind.toLowerCase());
    });
  } else {
    test("no tunnel: blue's and red's frames cross the fabric tagged with their own VLAN ids, from the provider bridge", async () => {
      expect(ports(lab.clusters[0].tunnelBridge)).toEqual([`${p}pi-sdn`]);
      const provider = lab.hosts.find((h) => h.name === "h1")!.tunnelEndpoint!.bridge;
      expect(ports(provider)).toEqual([`${p}pw-sdn`, "tun0"].sort());
      const id = (net: string) => lab.segments.find((s) => s.name === net)!.vlan!;
      expect(id("blue-app")).not.toBe(id("red-app"));
      for (const [guest, net] of [["b1", "blue-app"], ["r1", "red-app"]]) {
        const seen = await framesSeen(ns("h1"), "tun0", [`vlan ${id(net)} and icmp`], () => {
          expect(nsExec(ns(guest), "ping", ["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.12"]).status).toBe(0);
        });
        // Three echo requests out, three replies in, each tagged with the network's VLAN id.
        expect([guest, seen]).toEqual([guest, 6]);
      }
    });

    test("a red guest cannot hop into blue's VLAN: frames tagged with blue's VLAN id or local VLAN (single or stacked) never reach b2; the same frame untagged from b1 does", async () => {
      const nic = (g: string) => lab.guests.find((x) => x.name === g)!.nics[0];
      const id = (net: string) => lab.segments.find((s) => s.name === net)!.vlan!;
      const local = lab.segments.find((s) => s.name === "blue-app")!.localVlans!.h1;
      const listener = spawn("ip", ["netns", "exec", ns("b2"), "python3", "-c", LISTEN_UDP], { stdio: ["ignore", "pipe", "pipe"] });
      const got: string[] = [];
      listener.stdout.on("data", (d: Buffer) => got.push(...d.toString().split("\n").filter(Boolean)));
      try {
        for (let i = 0; i < 50 && !got.includes("ready"); i++) await new Promise((r) => setTimeout(r, 100));
        expect(got).toContain("ready");
        const send = (from: string, tags: number[], tag: string) => {
          const r = nsExec(ns(from), "python3", ["-c", SEND_TAGGED, nic("b2").mac.toString(), nic(from).mac.toString(), "10.0.0.11", "10.0.0.12", tags.join(","), tag, "20"]);
          if (r.status !== 0) throw new Error(r.stderr);
        };
        send("r1", [id("blue-app")], "blue-id");
        send("r1", [local], "blue-local");
        send("r1", [id("red-app"), id("blue-app")], "stacked");
        send("r1", [0], "priority-tag");
        send("b1", [], "control");
        await new Promise((r) => setTimeout(r, 1000));
        const count = (tag: string) => new Set(got.filter((l) => l.startsWith(`${tag}:`))).size;
        expect({ blueId: count("blue-id"), blueLocal: count("blue-local"), stacked: count("stacked"), priorityTag: count("priority-tag") })
          .toEqual({ blueId: 0, blueLocal: 0, stacked: 0, priorityTag: 0 });
        expect(count("control")).toBeGreaterThanOrEqual(18);
      } finally {
        listener.kill("SIGKILL");
      }
    });

    test("cloudnet trace follows b1's packet out of h1's provider bridge on the fabric link and into h2's, to b2's network port", () => {
      const lines = traceReport(new InventoryStore().lab(p), "b1", "b2", { tcp: 8080 });
      const blue = lab.segments.find((s) => s.name === "blue-app")!;
      expect(lines[0]).toContain(`on network blue-app (VLAN ${blue.vlan}) of cluster sdn`);
      const text = lines.join("\n");
      expect(text).toContain(`bridge("${lab.hosts[0].tunnelEndpoint!.bridge}")  provider bridge`);
      expect(text).toContain(`== on h2, from the fabric link tun0 (VLAN ${blue.vlan}) into ${lab.hosts[1].tunnelEndpoint!.bridge}`);
      expect(text).toContain(`set_field:${4096 + blue.vlan!}->vlan_vid`);
      expect(lines[lines.length - 1]).toMatch(new RegExp(`^Delivered on h2 to ${blue.ovsPort}, `));
    });
  }

  /** Each host's switch as ovs-vsctl shows it and every bridge's flows (no counters), and its links. */
  function switchView(): string {
    return ["h1", "h2", "h3"].map((h) => {
      const dir = lab.hosts.find((x) => x.name === h)!.ovsRunDir!;
      const db = `--db=unix:${dir}/db.sock`;
      const bridges = run("ovs-vsctl", [db, "list-br"]).split("\n").filter(Boolean);
      return [
        run("ovs-vsctl", [db, "show"]).split("\n").slice(1).join("\n"),
        ...bridges.map((b) => run("ovs-ofctl", ["-O", "OpenFlow14", "dump-flows", "--no-stats", `unix:${dir}/${b}.mgmt`])),
        run("ip", ["-n", ns(h), "-o", "link", "show"]).replace(/ +link\/\S+ .*$/gm, ""),
      ].join("\n");
    }).join("\n====\n");
  }

  /** How long the lab's flows on h1's bridges have been installed, in seconds. */
  function flowAges(): number[] {
    const h1 = lab.hosts.find((x) => x.name === "h1")!;
    const cluster = lab.clusters[0];
    return [cluster.integrationBridge, cluster.tunnelBridge, h1.tunnelEndpoint!.bridge].flatMap((b) => {
      const out = run("ovs-ofctl", ["-O", "OpenFlow14", "dump-flows", `unix:${h1.ovsRunDir!}/${b}.mgmt`, `cookie=${cluster.cookie}/-1`]);
      return [...out.matchAll(/duration=([\d.]+)s/g)].map((m) => Number(m[1]));
    });
  }

  test("a second apply changes nothing: no flow is replaced (their ages go on), the switches are the same, and a foreign bridge stays", () => {
    const dir = lab.hosts.find((x) => x.name === "h2")!.ovsRunDir!;
    // Another tool's bridge on h2's switch, with a flow of its own.
    run("ovs-vsctl", [`--db=unix:${dir}/db.sock`, "add-br", "br-foreign", "--", "set", "bridge", "br-foreign", "datapath_type=netdev", "fail-mode=secure"]);
    run("ovs-ofctl", ["add-flow", `unix:${dir}/br-foreign.mgmt`, "cookie=0x1234,priority=7,ip,actions=drop"]);
    const before = switchView();
    expect(before).toMatch(/cookie=0x1234,.*priority=7,ip.* actions=drop/);
    const ages = flowAges();
    expect(ages.length).toBeGreaterThan(10);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    for (const s of stages) run1(s, "apply");
    expect(switchView()).toEqual(before);
    const later = flowAges();
    expect(later).toHaveLength(ages.length);
    // Every flow is older than the wait: none was deleted and added again.
    expect(Math.min(...later)).toBeGreaterThanOrEqual(1.5);
  });

  test("teardown leaves no daemon, bridge, link or file of the lab", () => {
    const daemons = () => run("bash", ["-c", `pgrep -f '(ovs-vswitchd|ovsdb-server) .*/${p}-h[0-9]/' || true`]).split("\n").filter(Boolean);
    // The probe sees them while they run: a switch and a database per host.
    expect(daemons()).toHaveLength(6);
    [...stages].reverse().forEach((s) => run1(s, "teardown"));
    expect(liveObjects(p, p)).toEqual([]);
    expect(daemons()).toEqual([]);
  });
});
