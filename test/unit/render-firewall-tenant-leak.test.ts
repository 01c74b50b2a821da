import { gatewayHostRules, restorePayload, routesFor } from "../../lib/render";
import { parseRestore, verdict } from "./support/iptables";
import { emulatedLab, host, resolveOk, segment } from "./support/lab-specs";
import { NAT, ROUTED } from "./support/tenant-specs";

/**
 * "Segments of different tenants never exchange a packet" (SegmentSpec.tenant). With both routers on
 * one host the FORWARD chain drops router-to-router traffic across tenants; this checks the same
 * promise when the other tenant's routed segment has its router on another host.
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
  const fwd = parseRestore(restorePayload(gatewayHostRules(lab, h1).v4));

  it("h1 routes globex's routed subnet to h2 (so acme's router can reach it through h1)", () => {
    expect(routesFor(lab, h1)).toEqual([{ to: "10.2.0.0/24", via: "198.18.0.2" }]);
  });

  // Regression (fixed): lib/render/routing-rules.ts forwardRules (line 111) drops router-to-router traffic between tenants only
  // when both routers are on the same host (-i <linkA> -o <linkB>). When globex's routed segment has its router on
  // h2, acme's guests reach it through h1: h1 forwards -i lkx-acme-web -o eth0 (ACCEPT), masquerades, and h2
  // accepts it towards its routed segment (-o lkx-globex-pub -j ACCEPT), so the two tenants exchange packets,
  // though the same lab with both routers on h1 drops them. Repro: this test (ACCEPT instead of DROP).
  // Fix: on each gateway host, for every local router of tenant A, drop `-i <linkA> -d <cidr>` for every routed
  // (and nat) subnet of another tenant in the lab, wherever its router lives.
  it("h1 drops traffic from acme's router to globex's routed subnet on h2", () => {
    expect(verdict(fwd, "filter", "CN-lk-FWD", { src: "10.1.0.10", dst: "10.2.0.10", proto: "tcp", in: "lkx-acme-web", out: "eth0" }).target).toBe("DROP");
  });

  it("while acme's router still reaches the outside world", () => {
    expect(verdict(fwd, "filter", "CN-lk-FWD", { src: "10.1.0.10", dst: "198.18.0.254", proto: "tcp", in: "lkx-acme-web", out: "eth0" }).target).toBe("ACCEPT");
  });
});
