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

describe("a VLAN segment", () => {
  it("is an 802.1Q device on the host's uplink with the segment's id, enslaved to the bridge", () => {
    for (const h of ["h1", "h2"]) {
      const apply = lines(network(h).apply);
      expect(apply).toContain("if cn_link_missing tnq-vl; then ip link add link eth0 name tnq-vl mtu 1500 type vlan id 42; fi");
      expect(apply).toContain("ip link set tnq-vl master tnb-vl up");
    }
  });

  it("uses no VXLAN device and no flood entries", () => {
    const apply = network("h2").apply;
    expect(apply).not.toContain("type vxlan");
    expect(apply).not.toContain("bridge fdb");
  });

  it("on a real host, rides the host's given uplink; teardown deletes the VLAN device", () => {
    const real = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10", { uplink: "enp1s0" })], segments: [segment("vl", "10.1.0.0/24", { segmentation: "vlan", vlan: 7, hosts: ["h1"] })],
    }));
    const stage = renderHostNetwork(real, real.hosts[0], [])!;
    expect(lines(stage.apply)).toContain("if cn_link_missing labq-vl; then ip link add link enp1s0 name labq-vl mtu 1500 type vlan id 7; fi");
    expect(lines(stage.teardown)).toContain("cn_link_del labq-vl");
  });
});

describe("a bridged segment", () => {
  it("enslaves the host's LAN port to its bridge", () => {
    expect(lines(network("h1").apply)).toContain("ip link set eth1 master tnb-lan up");
  });

  it("teardown releases the LAN port with nomaster and never deletes it", () => {
    const teardown = lines(network("h1").teardown);
    expect(teardown).toContain("if ! cn_link_missing eth1; then ip link set eth1 nomaster; fi");
    expect(teardown.filter((l) => /link del\b.*\beth1\b|cn_link_del eth1/.test(l))).toEqual([]);
    expect(teardown).toContain("cn_link_del tnb-lan");
  });

  it("on a real host, uses its lanInterface", () => {
    const real = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10", { lanInterface: "enp2s0" })], segments: [segment("lan", "192.168.1.0/24", { mode: BRIDGED, hosts: ["h1"] })],
    }));
    const stage = renderHostNetwork(real, real.hosts[0], [])!;
    expect(lines(stage.apply)).toContain("ip link set enp2s0 master labb-lan up");
    expect(lines(stage.teardown)).toContain("if ! cn_link_missing enp2s0; then ip link set enp2s0 nomaster; fi");
    expect(stage.teardown).not.toMatch(/link del\S* (dev )?enp2s0/);
  });
});

describe("the emulated host stage", () => {
  it("creates eth1 on the fabric only for a host a bridged segment spans", () => {
    const h1 = renderEmulatedHost(lab, hostNamed("h1"));
    expect(lines(h1.apply)).toContain("if cn_link_missing eth1 tn-h1; then ip link add tnl-h1 netns tn-fabric type veth peer name eth1 netns tn-h1; fi");
    expect(lines(h1.apply)).toContain("ip -n tn-fabric link set tnl-h1 master fabric up");
    expect(lines(h1.teardown)).toContain("cn_netns_del tn-h1 eth0 eth1");
    for (const h of ["h2", "h3"]) {
      const stage = renderEmulatedHost(lab, hostNamed(h));
      expect(stage.apply).not.toContain("eth1");
      expect(lines(stage.teardown)).toContain(`cn_netns_del tn-${h} eth0`);
    }
  });
});

describe("the gateway host's network stage", () => {
  const h1 = network("h1");

  it("creates the router namespace with gw0 on the bridge and ext0 linked to the host, which routes the subnet to it", () => {
    const apply = lines(h1.apply);
    for (const line of [
      "cn_netns_add tn-rt.pub",
      "ip link set tnr-pub master tnb-pub up",
      "ip -n tn-rt.pub addr replace 10.2.0.1/24 dev gw0",
      "ip addr replace 169.254.0.9/30 dev tnx-pub",
      "ip -n tn-rt.pub addr replace 169.254.0.10/30 dev ext0",
      "ip -n tn-rt.pub route replace default via 169.254.0.9",
      "ip netns exec tn-rt.pub sysctl -qw net.ipv4.ip_forward=1",
      "ip route replace 10.2.0.0/24 via 169.254.0.10 dev tnx-pub",
    ]) expect(apply).toContain(line);
    expect(apply.indexOf("cn_netns_add tn-rt.pub")).toBeLessThan(apply.indexOf("ip -n tn-rt.pub addr replace 10.2.0.1/24 dev gw0"));
  });

  it("teardown deletes the router namespace (with its links) before the bridge", () => {
    const teardown = lines(h1.teardown);
    const ns = teardown.indexOf("cn_netns_del tn-rt.pub gw0 ext0");
    expect(ns).toBeGreaterThanOrEqual(0);
    expect(teardown.indexOf("cn_link_del tnb-pub")).toBeGreaterThan(ns);
  });

  it("other hosts get no router, only the route to the routed subnet via the gateway host", () => {
    for (const h of ["h2", "h3"]) {
      const stage = network(h);
      expect(stage.apply).not.toContain("rt.pub");
      expect(lines(stage.apply)).toContain("ip route replace 10.2.0.0/24 via 198.18.0.1");
      expect(lines(stage.teardown)).toContain("ip route del 10.2.0.0/24 via 198.18.0.1 2>/dev/null || true");
    }
  });

  it("a dual-stack nat router gets gw0's IPv6 address and IPv6 forwarding", () => {
    const dual = resolveOk(emulatedLab({
      name: "d6", hosts: [host("h1")], segments: [segment("web", "10.3.0.0/24", { mode: NAT, ipv6Cidr: "fd00:3::/64", hosts: ["h1"] })],
    }));
    const apply = lines(renderHostNetwork(dual, dual.hosts[0], [])!.apply);
    expect(apply).toContain("ip -n d6-rt.web -6 addr replace fd00:3::1/64 dev gw0 nodad");
    expect(apply).toContain("ip netns exec d6-rt.web sysctl -qw net.ipv6.conf.all.forwarding=1");
  });

  it("the lab renders the gateway host's firewall stages after its network stage, base first", () => {
    const natLab = resolveOk(emulatedLab({ name: "fw", hosts: [host("h1")], segments: [segment("web", "10.3.0.0/24", { mode: NAT, hosts: ["h1"] })] }));
    const after = Object.fromEntries(renderLab(natLab).map((s) => [s.id, s.after]));
    expect(after["firewall-base/h1"]).toEqual(["network/h1"]);
    expect(after["firewall/h1"]).toEqual(["firewall-base/h1"]);
  });
});
