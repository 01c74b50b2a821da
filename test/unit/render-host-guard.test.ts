import { Port } from "../../lib/net";
import { Ruleset, renderLab, restorePayload } from "../../lib/render";
import { conntrackZones, hostGuard } from "../../lib/render/host-guard";
import { hostFirewall } from "./support/firewall-stage";
import { Packet, Tables, parseRestore, verdict } from "./support/iptables";
import { emulatedLab, host, resolveOk, segment } from "./support/lab-specs";
import { NAT } from "./support/tenant-specs";

/**
 * hostGuard on a two-host lab: `web` is nat over h1 and h2 (its router on h1) and lets its guests
 * reach tcp/53 of the gateway host; `solo` is isolated on h1 only. Rules read back from the payload
 * and traced through the guard's INPUT chain.
 */
const lab = resolveOk(emulatedLab({
  name: "ha",
  hosts: [host("h1"), host("h2")],
  segments: [
    segment("web", "10.1.0.0/24", { mode: NAT, hosts: ["h1", "h2"], hostAccess: [Port.tcp(53).spec] }),
    segment("solo", "10.2.0.0/24", { hosts: ["h1"] }),
  ],
}));
const [h1, h2] = lab.hosts;
const web = lab.segments.find((s) => s.name === "web")!;
const solo = lab.segments.find((s) => s.name === "solo")!;
const link = web.gateway!.router.hostLink;

function guarded(h: typeof h1, family: 4 | 6): { rs: Ruleset; tables: Tables; rules: (chain: string) => string[] } {
  const rs = new Ruleset(family, lab.prefix);
  hostGuard(lab, h, rs, undefined);
  const tables = parseRestore(restorePayload(rs));
  return { rs, tables, rules: (chain) => tables.get("filter")!.get(chain)!.map((r) => r.join(" ")) };
}
const g1 = guarded(h1, 4);
const g2 = guarded(h2, 4);
const input = (g: typeof g1, p: Partial<Packet>) => verdict(g.tables, "filter", "CN-ha-IN", { src: "10.1.0.10", dst: h1.underlay.toString(), proto: "tcp", sport: 40000, dport: 53, in: link, ...p }).target;
/** A VXLAN packet of segment `vni` to h's underlay address, from `src` on `inIf`. */
const vxlan = (g: typeof g1, to: typeof h1, src: string, vni: number, inIf = to.uplink) =>
  input(g, { src, dst: to.underlay.toString(), proto: "udp", sport: 51234, dport: 4789, vni, in: inIf });

describe("hostGuard (nat web over h1 and h2 with hostAccess tcp/53, isolated solo on h1)", () => {
  it("hooks its three chains, each once: raw PREROUTING, filter FORWARD and INPUT", () => {
    expect(g1.rs.hooks.map((h) => `${h.table} ${h.builtin} ${h.chain}`)).toEqual(["raw PREROUTING CN-ha-ZONE", "filter FORWARD CN-ha-FWD", "filter INPUT CN-ha-IN"]);
    expect(g2.rs.hooks).toEqual(g1.rs.hooks);
  });

  it("a conntrack zone per segment of the host, by its bridge", () => {
    const zones = conntrackZones(lab);
    expect(g1.tables.get("raw")!.get("CN-ha-ZONE")!.map((r) => r.join(" "))).toEqual([web, solo].map((s) => `-i ${s.bridge} -m physdev --physdev-is-in -j CT --zone ${zones.get(s.name)}`));
    expect(g2.tables.get("raw")!.get("CN-ha-ZONE")!.map((r) => r.join(" "))).toEqual([`-i ${web.bridge} -m physdev --physdev-is-in -j CT --zone ${zones.get("web")}`]);
  });

  it("from the router link, INPUT accepts replies and exactly tcp/53 to the host's underlay address, and drops the rest", () => {
    expect(g1.rules("CN-ha-IN").filter((r) => r.includes(link))).toEqual([
      `-i ${link} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-i ${link} -d ${h1.underlay}/32 -p tcp --dport 53 -j ACCEPT`,
      `-i ${link} -j DROP`,
    ]);
    expect(input(g1, {})).toBe("ACCEPT");
    expect(input(g1, { proto: "udp" })).toBe("DROP");
    for (const dport of [52, 54, 22, 4789]) expect(input(g1, { dport })).toBe("DROP");
    // Another address of the host (docker0's, the router link's own) is not the one hostAccess opens.
    expect(input(g1, { dst: "172.17.0.1" })).toBe("DROP");
    expect(input(g1, { dst: "169.254.0.1" })).toBe("DROP");
    expect(input(g1, { proto: "icmp", dport: undefined, icmpType: 8, icmpCode: 0 })).toBe("DROP");
    // The host's own connections to its guests get their replies.
    expect(input(g1, { sport: 22, dport: 40000, ctstate: ["ESTABLISHED"] })).toBe("ACCEPT");
  });

  it("through a lab bridge INPUT drops everything, hostAccess ports included", () => {
    for (const s of [web, solo]) {
      expect(input(g1, { in: s.bridge })).toBe("DROP");
      expect(input(g1, { in: s.bridge, sport: 22, dport: 40000, ctstate: ["ESTABLISHED"] })).toBe("DROP");
    }
    expect(input(g2, { in: web.bridge, dst: h2.underlay.toString() })).toBe("DROP");
  });

  it("h2 has no router: no router link rules and no hostAccess port (its guests reach h1's, through their router)", () => {
    expect(g2.rules("CN-ha-IN").filter((r) => r.includes("--dport 53") || r.includes("conntrack"))).toEqual([]);
    expect(g2.tables.get("filter")!.has("CN-ha-TUNNEL")).toBe(false);
  });

  it("VXLAN is accepted per VNI only from that segment's other hosts, on the uplink; dropped from anywhere else", () => {
    const webIn = g1.rules("CN-ha-IN").filter((r) => r.includes("--dport 4789"));
    expect(webIn).toEqual([
      `-i ${h1.uplink} -s ${h2.underlay}/32 -p udp -m udp --dport 4789 -m u32 --u32 0x0>>0x16&0x3c@0xc>>0x8=0x${web.vni!.toString(16)} -j ACCEPT`,
      `-p udp -m udp --dport 4789 -m u32 --u32 0x0>>0x16&0x3c@0xc>>0x8=0x${web.vni!.toString(16)} -j DROP`,
      // solo spans h1 alone: no host may send into it.
      `-p udp -m udp --dport 4789 -m u32 --u32 0x0>>0x16&0x3c@0xc>>0x8=0x${solo.vni!.toString(16)} -j DROP`,
    ]);
    expect(vxlan(g1, h1, h2.underlay.toString(), web.vni!)).toBe("ACCEPT");
    expect(vxlan(g2, h2, h1.underlay.toString(), web.vni!)).toBe("ACCEPT");
    // The peer, but for a segment it is not on.
    expect(vxlan(g1, h1, h2.underlay.toString(), solo.vni!)).toBe("DROP");
    // Not an endpoint of the segment.
    expect(vxlan(g1, h1, "198.18.0.99", web.vni!)).toBe("DROP");
    expect(vxlan(g2, h2, "198.18.0.99", web.vni!)).toBe("DROP");
    // A guest forging the peer's address reaches the host through its router or a bridge, not the uplink.
    expect(vxlan(g1, h1, h2.underlay.toString(), web.vni!, link)).toBe("DROP");
    expect(vxlan(g1, h1, h2.underlay.toString(), web.vni!, solo.bridge)).toBe("DROP");
    // Another VNI (not this lab's on the host) and other traffic on the uplink are the host's business.
    expect(vxlan(g1, h1, "198.18.0.99", 777)).toBe("END");
    expect(input(g1, { src: "198.18.0.254", dport: 22, in: h1.uplink })).toBe("END");
  });

  it("IPv6: no hostAccess (guests reach their host over IPv4), replies from the router link, the rest of lab interfaces dropped", () => {
    const six = guarded(h1, 6);
    expect(six.rules("CN-ha-IN")).toEqual([
      `-i ${link} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-i ${link} -j DROP`,
      `-i ${web.bridge} -j DROP`,
      `-i ${solo.bridge} -j DROP`,
    ]);
  });

  it("is what h1's firewall stage ships, traced through the built-in INPUT the hooks leave", () => {
    const fw = hostFirewall(renderLab(lab), "h1");
    expect(fw.tables[4].get("filter")!.get("CN-ha-IN")).toEqual(g1.tables.get("filter")!.get("CN-ha-IN"));
    const builtin = (p: Partial<Packet>) => verdict(fw.tables[4], "filter", "INPUT", { src: "10.1.0.10", dst: h1.underlay.toString(), proto: "tcp", sport: 40000, dport: 53, in: link, ...p }).target;
    expect(builtin({})).toBe("ACCEPT");
    expect(builtin({ dport: 22 })).toBe("DROP");
  });
});
