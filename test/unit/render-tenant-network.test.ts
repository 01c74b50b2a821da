import { renderEmulatedHost, renderHostNetwork, renderLab } from "../../lib/render";
import { emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";
import { BRIDGED, NAT, ROUTED } from "./support/tenant-specs";

/**
 * Host stages for tenant networks: h1 carries vl (VLAN 42), lan (bridged) and pub (routed, router on
 * h1); h2 carries vl only; h3 none of them.
 */
const lab = resolveOk(emulatedLab({
  name: "tn",
  hosts: [host("h1"), host("h2"), host("h3")],
  segments: [
    segment("vl", "10.1.0.0/24", { segmentation: "vlan", vlan: 42 }),
    segment("lan", "192.168.50.0/24", { mode: BRIDGED }),
    segment("pub", "10.2.0.0/24", { mode: ROUTED }),
  ],
  guests: [guest("a", "h1", [{ segment: "vl" }, { segment: "lan" }, { segment: "pub" }]), guest("b", "h2", [{ segment: "vl" }])],
}));
const hostNamed = (name: string) => lab.hosts.find((h) => h.name === name)!;
const network = (name: string) => renderHostNetwork(lab, hostNamed(name), [])!;
const lines = (script: string) => script.split("\n");
/** The commands of an apply script after its helpers, rollback and trap. */
const body = (script: string) => lines(script).slice(lines(script).findIndex((l) => l.startsWith("trap ")) + 1);
/** A teardown that removes nothing: its log line, then one no-op. */
const KEEP = /\ncn_log '[^'\n]*'\n: # [^\n]*\n$/;
const links = (stage: { owns?: readonly { kind: string }[] }) =>
  (stage.owns ?? []).filter((o): o is { kind: "link"; name: string } => o.kind === "link").map((o) => o.name);

describe("a VLAN segment", () => {
  it("is an 802.1Q device on the host's uplink with the segment's id, enslaved to the bridge", () => {
    for (const h of ["h1", "h2"]) {
      const apply = lines(network(h).apply);
      expect(apply).toContain("if cn_link_missing tnq-vl; then ip link add link eth0 name tnq-vl mtu 1500 type vlan id 42; fi");
      expect(apply).toContain("ip link set dev tnq-vl mtu 1500 master tnb-vl up");
      expect(apply).toContain('if ! cn_link_missing tnq-vl && ! ip -o -d link show dev tnq-vl | grep -q "@eth0: .* vlan protocol 802.1Q id 42 "; then ip link del dev tnq-vl; fi');
    }
  });

  it("uses no VXLAN device and no flood entries", () => {
    const apply = body(network("h2").apply);
    expect(apply.filter((l) => /type vxlan|cn_flood|bridge fdb/.test(l))).toEqual([]);
  });

  it("on a real host, rides the host's given uplink; the stage declares the VLAN device (removed by the owner, never by its teardown)", () => {
    const real = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10", { uplink: "enp1s0" })], segments: [segment("vl", "10.1.0.0/24", { segmentation: "vlan", vlan: 7, hosts: ["h1"] })],
    }));
    const stage = renderHostNetwork(real, real.hosts[0], [])!;
    expect(lines(stage.apply)).toContain("if cn_link_missing labq-vl; then ip link add link enp1s0 name labq-vl mtu 1500 type vlan id 7; fi");
    expect(links(stage)).toEqual(["labb-vl", "labq-vl"]);
    expect(stage.teardown).toMatch(KEEP);
    // The uplink is the host's: no lab script ever deletes it.
    for (const s of renderLab(real)) for (const script of [s.apply, s.teardown]) expect(script).not.toMatch(/link del\S* (dev )?enp1s0/);
  });
});

describe("a bridged segment", () => {
  it("enslaves the host's LAN port to its bridge", () => {
    expect(lines(network("h1").apply)).toContain("ip link set eth1 master tnb-lan up");
  });

  it("the LAN port is not the lab's: the stage declares the bridge, not the port, and nothing deletes the port", () => {
    const h1 = network("h1");
    expect(links(h1)).toContain("tnb-lan");
    expect(links(h1)).not.toContain("eth1");
    expect(h1.teardown).toMatch(KEEP);
    // Convergence and the owner remove only links named <prefix><letter>-...: eth1 is never one of them.
    expect("eth1").not.toMatch(/^tn[a-z]-/);
    for (const s of renderLab(lab).filter((x) => x.runOn.kind === "host")) {
      for (const script of [s.apply, s.teardown]) expect(script.split("\n").filter((l) => /link del\b.*\beth1\b|cn_link_del eth1/.test(l))).toEqual([]);
    }
  });

  it("on a real host, uses its lanInterface", () => {
    const real = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10", { lanInterface: "enp2s0" })], segments: [segment("lan", "192.168.1.0/24", { mode: BRIDGED, hosts: ["h1"] })],
    }));
    const stage = renderHostNetwork(real, real.hosts[0], [])!;
    expect(lines(stage.apply)).toContain("ip link set enp2s0 master labb-lan up");
    expect(links(stage)).toEqual(["labb-lan"]);
    expect(stage.teardown).toMatch(KEEP);
    for (const s of renderLab(real)) for (const script of [s.apply, s.teardown]) expect(script).not.toMatch(/link del\S* (dev )?enp2s0/);
  });
});

describe("the emulated host stage", () => {
  it("creates eth1 on the fabric only for a host a bridged segment spans", () => {
    const h1 = renderEmulatedHost(lab, hostNamed("h1"));
    expect(lines(h1.apply)).toContain("if cn_link_missing eth1 tn-h1; then ip link add tnl-h1 netns tn-fabric type veth peer name eth1 netns tn-h1; fi");
    expect(lines(h1.apply)).toContain("ip -n tn-fabric link set tnl-h1 master fabric up");
    // A failed first apply deletes both ports with the namespace; the fabric end is declared for convergence.
    expect(lines(h1.apply)).toContain('  if [ "${cn_fresh:-0}" = 1 ]; then cn_netns_del tn-h1 eth0 eth1; fi');
    expect(h1.owns).toEqual([{ kind: "netns", name: "tn-h1" }, { kind: "link", name: "tnf-h1", netns: "tn-fabric" }, { kind: "link", name: "tnl-h1", netns: "tn-fabric" }]);
    expect(h1.teardown).toMatch(KEEP);
    for (const h of ["h2", "h3"]) {
      const stage = renderEmulatedHost(lab, hostNamed(h));
      expect(stage.apply).not.toContain("eth1");
      expect(lines(stage.apply)).toContain(`  if [ "\${cn_fresh:-0}" = 1 ]; then cn_netns_del tn-${h} eth0; fi`);
      expect(stage.owns).toEqual([{ kind: "netns", name: `tn-${h}` }, { kind: "link", name: `tnf-${h}`, netns: "tn-fabric" }]);
      expect(stage.teardown).toMatch(KEEP);
    }
  });
});

describe("the gateway host's network stage", () => {
  const h1 = network("h1");

  it("creates the router namespace with gw0 on the bridge and ext0 linked to the host, which routes the subnet to it", () => {
    const apply = body(h1.apply);
    const order = [
      "cn_netns_add tn-rt.pub.h1",
      "ip link set dev tnr-pub mtu 1450 master tnb-pub up",
      // An old gateway address goes before the new one is added.
      "cn_addrs_only tn-rt.pub.h1 gw0 any 10.2.0.1/24",
      "ip -n tn-rt.pub.h1 addr replace 10.2.0.1/24 dev gw0",
      "if cn_link_missing tnx-pub; then ip link add tnx-pub type veth peer name ext0 netns tn-rt.pub.h1; fi",
      // The link's /30 is picked on the host at apply time, from the lab's own suggestion (169.254.0.9/30 is link 2) on.
      "read -r cn_host cn_router < <(cn_router_link tnx-pub 2)",
      'ip addr replace "$cn_host/30" dev tnx-pub',
      "sysctl -qw net/ipv4/conf/tnx-pub/forwarding=1",
      'ip -n tn-rt.pub.h1 addr replace "$cn_router/30" dev ext0',
      'ip -n tn-rt.pub.h1 route replace default via "$cn_host"',
      "ip netns exec tn-rt.pub.h1 sysctl -qw net.ipv4.ip_forward=1",
      // The host's route to the subnet is recorded as the lab's (a foreign route to it is refused).
      'cn_route_put tn-h1 tn 10.2.0.0/24 via "$cn_router" dev tnx-pub',
    ];
    for (const line of order) expect(apply).toContain(line);
    const at = order.map((l) => apply.indexOf(l));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Nothing routes through a fixed address any more, and the host keeps its own routes untouched.
    expect(apply.filter((l) => /169\.254\.|^ip route (replace|add)/.test(l))).toEqual([]);
  });

  it("the gateway host holds forwarding on its uplink only (never host-wide), before the router is built", () => {
    const apply = body(h1.apply);
    const hold = apply.indexOf("cn_sysctl_hold net/ipv4/conf/eth0/forwarding tn-h1 tn");
    expect(hold).toBeGreaterThanOrEqual(0);
    expect(apply[hold + 1]).toBe("sysctl -qw net/ipv4/conf/eth0/forwarding=1");
    expect(hold).toBeLessThan(apply.indexOf("cn_netns_add tn-rt.pub.h1"));
    expect(apply.filter((l) => /ip_forward|conf[./]all[./]forwarding/.test(l) && !l.startsWith("ip netns exec tn-rt.pub.h1 "))).toEqual([]);
    expect(h1.owns).toContainEqual({ kind: "sysctl", key: "net/ipv4/conf/eth0/forwarding" });
    for (const h of ["h2", "h3"]) expect(body(network(h).apply).filter((l) => l.includes("forwarding"))).toEqual([]);
  });

  it("declares the router namespace, its links and the route, which converge keeps and the owners remove; its teardown keeps them", () => {
    expect(h1.owns).toEqual(expect.arrayContaining([
      { kind: "netns", name: "tn-rt.pub.h1" }, { kind: "link", name: "tnr-pub" }, { kind: "link", name: "tnx-pub" }, { kind: "route", to: "10.2.0.0/24" },
    ]));
    expect(h1.teardown).toMatch(KEEP);
    const stages = renderLab(lab);
    const of = (id: string) => stages.find((s) => s.id === id)!;
    const h1Converge = body(of("converge/h1").apply);
    expect(h1Converge).toContain("cn_links_prune - tn tnb-lan,tnb-pub,tnb-vl,tnq-vl,tnr-pub,tnt-a-0,tnt-a-1,tnt-a-2,tnv-pub,tnx-pub");
    expect(h1Converge).toContain("cn_records_prune tn-h1 tn routes 10.2.0.0/24");
    expect(h1Converge).toContain("cn_holds_prune tn-h1 tn net%ipv4%conf%eth0%forwarding");
    // Emulated routers are namespaces on the controller: its converge keeps them, the fabric's teardown removes them.
    expect(body(of("converge").apply)[2]).toBe("cn_netns_prune tn- tn-a,tn-b,tn-fabric,tn-h1,tn-h2,tn-h3,tn-rt.pub.h1");
    expect(lines(of("fabric").teardown)).toContain("cn_netns_prune tn- -");
    expect(lines(of("owner/h1").teardown)).toEqual(expect.arrayContaining(["cn_links_prune - tn -", "cn_records_prune tn-h1 tn routes -", "cn_holds_prune tn-h1 tn -"]));
  });

  it("on a real host, the owner's teardown removes the router namespaces (only those: <prefix>-rt.*) and converge keeps the declared one", () => {
    const real = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10")], segments: [segment("pub", "10.2.0.0/24", { mode: ROUTED, hosts: ["h1"] })],
    }));
    const stages = renderLab(real);
    const of = (id: string) => stages.find((s) => s.id === id)!;
    expect(of("network/h1").owns).toContainEqual({ kind: "netns", name: "lab-rt.pub" });
    expect(lines(of("owner/h1").teardown)).toContain("cn_netns_prune lab-rt. -");
    expect(body(of("converge/h1").apply)).toContain("cn_netns_prune lab-rt. lab-rt.pub");
    // A real host keeps its state in the scope "host".
    expect(body(of("network/h1").apply)).toContain('cn_route_put host lab 10.2.0.0/24 via "$cn_router" dev labx-pub');
  });

  it("other hosts get no router, only the (recorded) route to the routed subnet via the gateway host", () => {
    for (const h of ["h2", "h3"]) {
      const stage = network(h);
      expect(stage.apply).not.toContain("rt.pub");
      expect(body(stage.apply)).toContain(`cn_route_put tn-${h} tn 10.2.0.0/24 via 198.18.0.1`);
      expect(stage.owns).toContainEqual({ kind: "route", to: "10.2.0.0/24" });
      expect(stage.teardown).toMatch(KEEP);
    }
  });

  it("a dual-stack nat router gets gw0's IPv6 address and IPv6 forwarding", () => {
    const dual = resolveOk(emulatedLab({
      name: "d6", hosts: [host("h1")], segments: [segment("web", "10.3.0.0/24", { mode: NAT, ipv6Cidr: "fd00:3::/64", hosts: ["h1"] })],
    }));
    const apply = lines(renderHostNetwork(dual, dual.hosts[0], [])!.apply);
    expect(apply).toContain("ip -n d6-rt.web.h1 -6 addr replace fd00:3::1/64 dev gw0 nodad");
    expect(apply).toContain("ip netns exec d6-rt.web.h1 sysctl -qw net.ipv6.conf.all.forwarding=1");
    // IPv6 forwarding is the router namespace's own: the host's is left as it is.
    expect(apply.filter((l) => /ipv6/.test(l) && /forwarding/.test(l) && !l.startsWith("ip netns exec d6-rt.web.h1 "))).toEqual([]);
  });

  it("the lab renders the gateway host's one firewall stage after its network stage, re-applied with it", () => {
    const natLab = resolveOk(emulatedLab({ name: "fw", hosts: [host("h1")], segments: [segment("web", "10.3.0.0/24", { mode: NAT, hosts: ["h1"] })] }));
    const stages = renderLab(natLab);
    expect(stages.map((s) => s.id).filter((id) => id.startsWith("firewall"))).toEqual(["firewall/h1"]);
    const fw = stages.find((s) => s.id === "firewall/h1")!;
    expect(fw.after).toEqual(["network/h1"]);
    expect(fw.replacedWith).toEqual(["network/h1"]);
    expect(fw.teardown).toMatch(KEEP);
  });
});
