import { renderLab, routesFor } from "../../lib/render";
import { hostFirewall } from "./support/firewall-stage";
import { Packet, verdict } from "./support/iptables";
import { emulatedLab, host, resolveOk, segment } from "./support/lab-specs";
import { NAT, ROUTED } from "./support/tenant-specs";

/**
 * "Segments of different tenants never exchange a packet" (SegmentSpec.tenant). With both routers on
 * one host the FORWARD chain drops router-to-router traffic across tenants; this checks the same
 * promise when the other tenant's routed segment has its router on another host, traced through h1's
 * built-in FORWARD as its firewall stage leaves it (the host guard's CN-lk-FWD hooked first).
 */
describe("tenant isolation across gateway hosts", () => {
  const lab = resolveOk(emulatedLab({
    name: "lk",
    hosts: [host("h1"), host("h2")],
    segments: [
      segment("acme-web", "10.1.0.0/24", { tenant: "acme", mode: NAT, hosts: ["h1"] }),
      segment("globex-pub", "10.2.0.0/24", { tenant: "globex", mode: ROUTED, hosts: ["h2"] }),
    ],
  }));
  const h1 = lab.hosts[0];
  const fw = hostFirewall(renderLab(lab), "h1");
  const fromRouter = (p: Partial<Packet>): Packet => ({ src: "10.1.0.10", dst: "198.18.0.254", proto: "tcp", dport: 443, in: "lkx-acme-web", out: "eth0", ...p });
  const forward = (p: Packet) => verdict(fw.tables[4], "filter", "FORWARD", p).target;

  it("h1 routes globex's routed subnet to h2 (so acme's router can reach it through h1)", () => {
    expect(routesFor(lab, h1)).toEqual([{ to: "10.2.0.0/24", via: "198.18.0.2" }]);
  });

  it("the host guard's chain is the only lab jump in h1's FORWARD, and first", () => {
    expect(fw.builtins[4].get("filter FORWARD")).toEqual(["CN-lk-FWD"]);
  });

  // Regression (fixed): lib/render/routing-rules.ts forwardRules (line 111) drops router-to-router traffic between tenants only
  // when both routers are on the same host (-i <linkA> -o <linkB>). When globex's routed segment has its router on
  // h2, acme's guests reach it through h1: h1 forwards -i lkx-acme-web -o eth0 (ACCEPT), masquerades, and h2
  // accepts it towards its routed segment (-o lkx-globex-pub -j ACCEPT), so the two tenants exchange packets,
  // though the same lab with both routers on h1 drops them. Repro: this test (ACCEPT instead of DROP).
  // Fix: on each gateway host, for every local router of tenant A, drop `-i <linkA> -d <cidr>` for every routed
  // (and nat) subnet of another tenant in the lab, wherever its router lives.
  it("h1 drops traffic from acme's router to globex's routed subnet on h2", () => {
    expect(forward(fromRouter({ dst: "10.2.0.10", dport: 80 }))).toBe("DROP");
  });

  it("while acme's router still reaches the outside world, explicitly accepted (whatever FORWARD's policy)", () => {
    expect(forward(fromRouter({}))).toBe("ACCEPT");
    expect(forward(fromRouter({ proto: "udp", dport: 53 }))).toBe("ACCEPT");
  });

  it("the router reaches nothing else of the host: not docker0, not virbr0, not another interface", () => {
    expect(forward(fromRouter({ dst: "172.17.0.2", out: "docker0" }))).toBe("DROP");
    expect(forward(fromRouter({ dst: "192.168.122.10", out: "virbr0" }))).toBe("DROP");
    expect(forward(fromRouter({ dst: "192.168.1.10", out: "eth1" }))).toBe("DROP");
  });

  it("and no tunnel endpoint of the lab, though the uplink is the way there: VXLAN, Geneve and GRE to h1 or h2 are dropped", () => {
    for (const dst of ["198.18.0.1", "198.18.0.2"]) {
      expect(forward(fromRouter({ dst, proto: "udp", dport: 4789 }))).toBe("DROP");
      expect(forward(fromRouter({ dst, proto: "udp", dport: 6081 }))).toBe("DROP");
      expect(forward(fromRouter({ dst, proto: "gre", dport: undefined }))).toBe("DROP");
      // Other traffic to the lab's hosts is the uplink's like any other.
      expect(forward(fromRouter({ dst, proto: "udp", dport: 53 }))).toBe("ACCEPT");
    }
    // Tunnel ports elsewhere are ordinary traffic.
    expect(forward(fromRouter({ proto: "udp", dport: 4789 }))).toBe("ACCEPT");
  });

  it("traffic the lab does not route is not the guard's: it returns to the host's own FORWARD rules", () => {
    expect(forward({ src: "172.17.0.2", dst: "198.18.0.254", proto: "tcp", dport: 443, in: "docker0", out: "eth0" })).toBe("END");
  });
});
