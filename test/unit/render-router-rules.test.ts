import { ResolvedLab, formatIssues } from "../../lib/model";
import { applyRuleset, interceptRules, restorePayload, routerRules } from "../../lib/render";
import { tenantLab } from "../kernel/fixtures/tenant-lab";
import { Packet, parseRestore, shares, trace, verdict } from "./support/iptables";

/** Rules inside acme-web's router namespace (services) and inside an intercepted guest (sidecar). */
const resolution = tenantLab("tr").resolve();
if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
const lab: ResolvedLab = resolution.lab;
const acme = lab.segments.find((s) => s.name === "acme-web")!;

describe("routerRules (acme-web, service api at 10.96.0.10:80 over a1, a2, a3 weighted 1:1:2)", () => {
  const rs = routerRules(lab, acme);
  const tables = parseRestore(restorePayload(rs));
  const svc = tables.get("nat")!.get("CN-tr-SVC-api")!.map((r) => r.join(" "));

  it("live in the router's namespace (emulated: <prefix>-rt.<segment>.<gateway host>)", () => {
    expect(acme.gateway!.host).toBe("h1");
    expect(rs.netns).toBe("tr-rt.acme-web.h1");
    expect(rs.netns).toBe(acme.gateway!.router.netns);
    expect(applyRuleset(rs).map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["cn_in tr-rt.acme-web.h1", ...Array(3).fill("cn_hook_first tr-rt.acme-web.h1"), ...Array(4).fill("cn_fw_prune tr-rt.acme-web.h1")]);
  });

  it("send the VIP:port into the service chain, from PREROUTING and OUTPUT", () => {
    expect(tables.get("nat")!.get("CN-tr-DNAT")!.map((r) => r.join(" "))).toEqual(["-d 10.96.0.10/32 -p tcp --dport 80 -j CN-tr-SVC-api"]);
    expect(rs.hooks.map((h) => `${h.builtin} ${h.chain}`)).toEqual(["PREROUTING CN-tr-DNAT", "OUTPUT CN-tr-DNAT", "POSTROUTING CN-tr-SNAT"]);
  });

  it("the service chain takes 0.25, then 0.3333333333, then the last backend without a statistic match", () => {
    expect(svc).toEqual([
      "-p tcp -m statistic --mode random --probability 0.2500000000 -j DNAT --to-destination 10.0.0.11:8080",
      "-p tcp -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.0.0.12:8080",
      "-p tcp -j DNAT --to-destination 10.0.0.13:8080",
    ]);
  });

  it("traced: a new connection to the VIP lands 25/25/50 %; another port or protocol is not touched", () => {
    const pkt: Packet = { src: "10.0.0.14", dst: "10.96.0.10", proto: "tcp", dport: 80, in: "gw0" };
    const got = shares(trace(tables, "nat", "CN-tr-DNAT", pkt));
    expect(got["DNAT --to-destination 10.0.0.11:8080"]).toBeCloseTo(0.25, 9);
    expect(got["DNAT --to-destination 10.0.0.12:8080"]).toBeCloseTo(0.25, 9);
    expect(got["DNAT --to-destination 10.0.0.13:8080"]).toBeCloseTo(0.5, 9);
    expect(Object.keys(got)).toHaveLength(3);
    expect(verdict(tables, "nat", "CN-tr-DNAT", { ...pkt, dport: 81 }).target).toBe("END");
    expect(verdict(tables, "nat", "CN-tr-DNAT", { ...pkt, proto: "udp" }).target).toBe("END");
  });

  it("hairpin: DNATed connections from the subnet back out of gw0 are masqueraded, others are not", () => {
    expect(tables.get("nat")!.get("CN-tr-SNAT")!.map((r) => r.join(" "))).toEqual(["-s 10.0.0.0/24 -o gw0 -m conntrack --ctstate DNAT -j MASQUERADE"]);
    const back: Packet = { src: "10.0.0.14", dst: "10.0.0.11", proto: "tcp", dport: 8080, out: "gw0" };
    expect(verdict(tables, "nat", "CN-tr-SNAT", { ...back, ctstate: ["NEW", "DNAT"] }).target).toBe("MASQUERADE");
    expect(verdict(tables, "nat", "CN-tr-SNAT", back).target).toBe("END");
    expect(verdict(tables, "nat", "CN-tr-SNAT", { ...back, out: "ext0", ctstate: ["NEW", "DNAT"] }).target).toBe("END");
  });

  it("are empty for a router without services", () => {
    const other = tenantLab("tr2").resolve().lab!;
    const withoutServices: ResolvedLab = { ...other, services: [] };
    expect(routerRules(withoutServices, withoutServices.segments[0]).isEmpty).toBe(true);
  });
});

describe("interceptRules (m1: outbound -> 15001, inbound -> 15006, proxy uid 1337)", () => {
  const m1 = lab.guests.find((g) => g.name === "m1")!;
  const [v4, v6] = interceptRules(lab, m1);
  const tables = parseRestore(restorePayload(v4));
  const out = tables.get("nat")!.get("CN-tr-MESH-OUT")!.map((r) => r.join(" "));
  const outbound = (p: Partial<Packet>) => verdict(tables, "nat", "CN-tr-MESH-OUT", { src: "10.0.0.15", dst: "10.0.0.12", proto: "tcp", dport: 8080, uid: 0, ...p });

  it("the proxy's own connections RETURN before anything is redirected, and loopback is excluded", () => {
    const owner = out.indexOf("-p tcp -m owner --uid-owner 1337 -j RETURN");
    const loopback = out.indexOf("-p tcp -d 127.0.0.0/8 -j RETURN");
    const redirect = out.indexOf("-p tcp -j REDIRECT --to-ports 15001");
    expect(owner).toBe(0);
    expect(loopback).toBeGreaterThan(owner);
    expect(redirect).toBeGreaterThan(loopback);
    expect(out).toHaveLength(3);
  });

  it("traced: an app's TCP goes to 15001; the proxy's and loopback TCP go where they were sent; UDP is untouched", () => {
    expect(outbound({})).toMatchObject({ target: "REDIRECT", args: ["--to-ports", "15001"] });
    expect(outbound({ uid: 1337 }).target).toBe("RETURN");
    expect(outbound({ dst: "127.0.0.1" }).target).toBe("RETURN");
    expect(outbound({ proto: "udp" }).target).toBe("END");
  });

  it("inbound TCP goes to 15006, hooked in PREROUTING; outbound is hooked in OUTPUT", () => {
    expect(verdict(tables, "nat", "CN-tr-MESH-IN", { src: "10.0.0.12", dst: "10.0.0.15", proto: "tcp", dport: 8080 })).toMatchObject({
      target: "REDIRECT", args: ["--to-ports", "15006"],
    });
    expect(v4.hooks.map((h) => `${h.builtin} ${h.chain}`)).toEqual(["OUTPUT CN-tr-MESH-OUT", "PREROUTING CN-tr-MESH-IN"]);
  });

  it("IPv6 gets the same interception in ip6tables, with ::1 as loopback", () => {
    expect(v6.family).toBe(6);
    expect(restorePayload(v6).split("\n").filter((l) => l.startsWith("-A"))).toEqual([
      "-A CN-tr-MESH-OUT -p tcp -m owner --uid-owner 1337 -j RETURN",
      "-A CN-tr-MESH-OUT -p tcp -d ::1/128 -j RETURN",
      "-A CN-tr-MESH-OUT -p tcp -j REDIRECT --to-ports 15001",
      "-A CN-tr-MESH-IN -p tcp -j REDIRECT --to-ports 15006",
    ]);
  });

  it("a guest without intercept gets no rules, and only the chains for the ports it names", () => {
    expect(interceptRules(lab, lab.guests.find((g) => g.name === "a1")!).every((rs) => rs.isEmpty)).toBe(true);
    const outOnly = { ...m1, intercept: { outboundPort: 15001, proxyUid: 1337 } };
    expect([...parseRestore(restorePayload(interceptRules(lab, outOnly)[0])).get("nat")!.keys()]).toEqual(["CN-tr-MESH-OUT"]);
  });
});
