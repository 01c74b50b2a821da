import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { Tunnel } from "../../lib";
import { runStage } from "../support/apply";
import { framesSeen } from "../support/capture";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { overlayLab } from "./fixtures/overlay-lab";
import { flowsReport } from "../../lib/cli/flows";
import { InventoryStore } from "../../lib/cli/inventory-store";
import { traceReport } from "../../lib/cli/trace";
import { integrationFlows, providerFlows, tunnelFlows } from "../../lib/render/ovs-flows";

/**
 * The tunnel bridge's pipeline, traced with `ofproto/trace` and watched on the wire: each path the
 * README's table lists, L2 population keeping ARP broadcasts off the tunnels, and (without it) the
 * learn() table filling from traffic.
 */
function deployed(l2Population: boolean) {
  const p = uniquePrefix("o");
  const resolution = overlayLab(p, Tunnel.vxlan(), l2Population).resolve();
  if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
  const lab: ResolvedLab = resolution.lab;
  const stages: Stage[] = renderLab(lab);
  const host = (name: string) => lab.hosts.find((h) => h.name === name)!;
  const cluster = lab.clusters[0];
  const seg = (name: string) => lab.segments.find((s) => s.name === name)!;
  const mac = (guest: string) => lab.guests.find((g) => g.name === guest)!.nics[0].mac.toString();
  const appctl = (h: string, ...args: string[]) => run("ovs-appctl", ["-t", `${host(h).ovsRunDir}/ovs-vswitchd.ctl`, ...args]);
  return {
    p, lab, stages, host, cluster, seg, mac,
    apply: () => stages.forEach((s) => { const r = runStage(lab, s, "apply"); if (r.status !== 0) throw new Error(`apply of ${s.id}:\n${r.output}`); }),
    /** The trace of a packet entering the tunnel bridge of `h`: the tables it visits, and the datapath's actions. */
    trace: (h: string, flow: string) => {
      const out = appctl(h, "ofproto/trace", cluster.tunnelBridge, flow);
      // The tunnel bridge's own section: the trace goes on into the bridge a packet is sent to.
      const own = out.split(/^bridge\("/m).find((section) => section.startsWith(`${cluster.tunnelBridge}")`)) ?? "";
      return {
        tables: [...own.matchAll(/^ ?(\d+)\. /gm)].map((m) => Number(m[1])),
        /** The hosts' tunnel endpoints it is sent to ("-> tunneling to ADDRESS"). */
        tunnelsTo: [...own.matchAll(/-> tunneling to (\S+) via/g)].map((m) => m[1]).sort(),
        actions: /Datapath actions: (.*)/.exec(out)?.[1] ?? "",
        own,
      };
    },
    dumpFlows: (h: string, table: number) => run("ovs-ofctl", ["-O", "OpenFlow14", "dump-flows", `unix:${host(h).ovsRunDir}/${cluster.tunnelBridge}.mgmt`, `table=${table}`]),
    ns: (node: string) => `${p}-${node}`,
  };
}

/** Inner frames to ff:ff:ff:ff:ff:ff in VXLAN on a host's tunnel link while `during` runs. */
function broadcastsOnTunnel(netns: string, during: () => void): Promise<number> {
  // The inner Ethernet destination: after UDP's 8 bytes and VXLAN's 8.
  return framesSeen(netns, "tun0", ["udp dst port 4789 and udp[16:4] = 0xffffffff and udp[20:2] = 0xffff"], during);
}

describe("the tunnel bridge's pipeline, with L2 population (kernel)", () => {
  const d = deployed(true);
  const v = (net: string, h: string) => d.seg(net).localVlans![h];
  const port = (h: string) => `${d.p}n-${h}`;
  const endpoint = (h: string) => d.host(h).tunnelEndpoint!.address.toString();
  const vni = (net: string) => `0x${d.seg(net).vni!.toString(16)}`;
  const patch = `${d.p}pi-sdn`;

  beforeAll(() => {
    requireRoot();
    d.apply();
  }, 120_000);
  afterAll(() => cleanupPrefix(d.p));

  test("outbound unicast to a known MAC: classify (0), split (2), unicast (20), out of the tunnel to the MAC's host only", () => {
    const t = d.trace("h1", `in_port=${patch},dl_vlan=${v("blue-app", "h1")},dl_src=${d.mac("b1")},dl_dst=${d.mac("b2")},dl_type=0x0800`);
    expect(t.tables).toEqual([0, 2, 20]);
    expect(t.own).toContain(`set_field:${vni("blue-app")}->tun_id`);
    expect(t.tunnelsTo).toEqual([endpoint("h2")]);
  });

  test("outbound broadcast: split (2) to flood (22), out of the tunnels of exactly the hosts that carry the network", () => {
    const blue = d.trace("h1", `in_port=${patch},dl_vlan=${v("blue-app", "h1")},dl_src=${d.mac("b1")},dl_dst=ff:ff:ff:ff:ff:ff,dl_type=0x0800`);
    expect(blue.tables).toEqual([0, 2, 22]);
    expect(blue.tunnelsTo).toEqual([endpoint("h2"), endpoint("h3")].sort());
    // Green lives on h1 and h2: its floods never go to h3.
    const green = d.trace("h1", `in_port=${patch},dl_vlan=${v("green-app", "h1")},dl_src=${d.mac("g1")},dl_dst=ff:ff:ff:ff:ff:ff,dl_type=0x0800`);
    expect(green.tables).toEqual([0, 2, 22]);
    expect(green.own).toContain(`set_field:${vni("green-app")}->tun_id`);
    expect(green.tunnelsTo).toEqual([endpoint("h2")]);
  });

  test("an ARP request for a known address is answered on the host (21), back into the integration bridge", () => {
    const t = d.trace("h1", `in_port=${patch},dl_vlan=${v("blue-app", "h1")},dl_src=${d.mac("b1")},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.11,arp_tpa=10.0.0.12`);
    expect(t.tables).toEqual([0, 2, 21]);
    expect(t.own).toContain(`set_field:${d.mac("b2")}->eth_src`);
    expect(t.own).toContain("load:0x2->NXM_OF_ARP_OP[]");
    expect(t.own).toMatch(/\n\s+IN_PORT\s*$/);
    expect(t.tunnelsTo).toEqual([]);
  });

  test("inbound with the network's tunnel id: to its local VLAN (4), learned (10), to the integration bridge; an unknown id is dropped", () => {
    const known = d.trace("h2", `in_port=${port("h1")},tun_id=${vni("blue-app")},dl_src=${d.mac("b1")},dl_dst=${d.mac("b2")},dl_type=0x0800`);
    expect(known.tables).toEqual([0, 4, 10]);
    // 4096 (a VLAN is present) plus the network's local VLAN on h2.
    expect(known.own).toContain(`set_field:${4096 + v("blue-app", "h2")}->vlan_vid`);
    expect(known.own).toContain("learn(");
    const unknown = d.trace("h2", `in_port=${port("h1")},tun_id=0x9999,dl_src=${d.mac("b1")},dl_dst=${d.mac("b2")},dl_type=0x0800`);
    expect(unknown.tables).toEqual([0, 4]);
    expect(unknown.actions).toBe("drop");
    // From any port but the patch and the tunnels: dropped at classify.
    expect(d.trace("h2", `in_port=LOCAL,dl_src=${d.mac("b1")},dl_dst=${d.mac("b2")}`).actions).toBe("drop");
  });

  test("no broadcast crosses a tunnel while guests resolve each other; an address nobody has is flooded (the probe's control)", async () => {
    nsExec(d.ns("b1"), "ip", ["neigh", "flush", "all"]);
    const known = await broadcastsOnTunnel(d.ns("h1"), () => {
      for (const ip of ["10.0.0.12", "10.0.0.13"]) expect(nsExec(d.ns("b1"), "ping", ["-c", "1", "-W", "2", ip]).status).toBe(0);
    });
    expect(known).toBe(0);
    const unknown = await broadcastsOnTunnel(d.ns("h1"), () => { nsExec(d.ns("b1"), "ping", ["-c", "1", "-W", "1", "10.0.0.99"]); });
    expect(unknown).toBeGreaterThan(0);
  });

  test("cloudnet trace follows b1's echo request to b2 through both hosts' tables, each named, to b2's network port; and the ping passes", () => {
    const lines = traceReport(new InventoryStore().lab(d.p), "b1", "b2");
    expect(lines[0]).toBe(`ICMP echo request from b1 (10.0.0.11, h1) to 10.0.0.12 (b2 on h2), on network blue-app (VNI ${d.seg("blue-app").vni}) of cluster sdn`);
    const text = lines.join("\n");
    // h1: integration bridge 0, tunnel bridge 0, 2, 20, provider bridge 0 (which sends the tunnel packet on
    // the fabric link); h2, from the tunnel: tunnel bridge 0, 4, 10, integration bridge 0.
    expect([...text.matchAll(/^ {4}# table (\d+): \S/gm)].map((m) => Number(m[1]))).toEqual([0, 0, 2, 20, 0, 0, 4, 10, 0]);
    expect(text).not.toContain("(not a table of the lab's pipeline)");
    expect(text).toContain(`== on h2, from the tunnel ${port("h1")} (from h1) into ${d.cluster.tunnelBridge}`);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^Delivered on h2 to ${d.seg("blue-app").ovsPort}, the port of network blue-app's Linux bridge`));
    expect(nsExec(d.ns("b1"), "ping", ["-c", "1", "-W", "2", "10.0.0.12"]).status).toBe(0);
  });

  test("cloudnet flows lists every flow the lab rendered for h1, on its three bridges, under its table's name", () => {
    const lines = flowsReport(new InventoryStore().lab(d.p), "h1", { stats: false });
    const rendered = [integrationFlows, tunnelFlows, providerFlows].reduce((n, f) => n + f(d.lab, d.cluster, d.host("h1")).length, 0);
    const flows = lines.filter((l) => /^ {4}\S/.test(l));
    // Besides those, only what learn() added from the pings before, marked as such.
    expect(flows.filter((l) => !l.endsWith("  (learned)"))).toHaveLength(rendered);
    expect(flows.filter((l) => l.endsWith("  (learned)")).every((l) => l.includes("hard_timeout=300"))).toBe(true);
    const tables = lines.filter((l) => /^ {2}table \d+: /.test(l));
    // The integration bridge's table, the tunnel bridge's, the provider bridge's.
    expect(tables.map((l) => Number(/table (\d+)/.exec(l)![1]))).toEqual([0, 0, 2, 4, 10, 20, 21, 22, 0]);
    expect(tables.join("\n")).not.toContain("(not a table of the lab's pipeline)");
  });
});

describe("the tunnel bridge's pipeline, without L2 population (kernel)", () => {
  const d = deployed(false);

  beforeAll(() => {
    requireRoot();
    d.apply();
  }, 120_000);
  afterAll(() => cleanupPrefix(d.p));

  test("the unicast table holds only what learn() puts there from traffic, and unicast to a remote guest then takes that flow", () => {
    const b2 = d.mac("b2");
    // Nothing placed by the lab (that is L2 population's priority 2): table 20 fills from traffic only.
    expect(d.dumpFlows("h1", 20)).not.toContain("priority=2");
    expect(nsExec(d.ns("b1"), "ping", ["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.12"]).status).toBe(0);
    // OpenFlow counters follow the datapath's about once a second.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
    const learned = d.dumpFlows("h1", 20).split("\n").find((l) => l.includes(`dl_dst=${b2}`));
    expect(learned).toBeDefined();
    expect(learned).toContain(`cookie=${d.cluster.learnedCookie},`);
    expect(learned).toContain("hard_timeout=300, priority=1,");
    expect(learned).toContain(`load:0x${d.seg("blue-app").vni!.toString(16)}->NXM_NX_TUN_ID[]`);
    // The echo requests went by it (the ARP reply taught it), not by the flood table.
    expect(Number(/n_packets=(\d+)/.exec(learned!)![1])).toBeGreaterThanOrEqual(3);
  });
});
