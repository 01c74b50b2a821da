import { App, TerraformStack } from "cdktf";
import { Lab, NetworkMode, Port } from "../../lib";
import { SegmentSpec, resolveLab } from "../../lib/model";
import { emulatedLab, host, pathOf, resolveOk, segment, theIssue } from "./support/lab-specs";
import { BRIDGED, NAT, ROUTED } from "./support/tenant-specs";

/** SegmentSpec.hostAccess: the ports of its gateway host a nat or routed segment's guests may reach. */

const h12 = [host("h1"), host("h2")];
const web = (mode: SegmentSpec["mode"], ...ports: Port[]) =>
  emulatedLab({ hosts: h12, segments: [segment("web", "10.1.0.0/24", { mode, hosts: ["h1"], hostAccess: ports.map((p) => p.spec) })] });
const noRouter = (kind: string, ports: string) =>
  `hostAccess (${ports}) cannot be enforced on ${kind} segment 'web': its guests have no router, so no route to their host; make it nat or routed, or remove hostAccess.`;

describe("hostAccess", () => {
  it("is kept, in order, on a nat or routed segment; a segment without it has none", () => {
    for (const mode of [NAT, ROUTED]) {
      const lab = resolveOk(web(mode, Port.tcp(53), Port.udp(53), Port.allIcmp()));
      expect(lab.segments[0].hostAccess).toEqual([Port.tcp(53).spec, Port.udp(53).spec, Port.allIcmp().spec]);
    }
    expect(resolveOk(web(NAT)).segments[0].hostAccess).toEqual([]);
  });

  it.each([["an isolated", "isolated", undefined], ["a bridged", "bridged", BRIDGED]] as const)("on %s segment (no router) is an error at the segment, naming the fix", (_, kind, mode) => {
    const r = resolveLab(web(mode, Port.tcp(53), Port.udpRange(5000, 5010)));
    expect(r.lab).toBeUndefined();
    expect(r.issues).toContainEqual({ path: pathOf("web"), message: noRouter(kind, "tcp/53, udp/5000-5010") });
  });

  it("on an isolated tenant network built with the constructs: the error is at the network's construct path", () => {
    const lab = new Lab(new TerraformStack(new App(), "stack"), "lab");
    lab.addHost("h1");
    lab.addTenant("acme").addNetwork("web", { cidr: "10.0.0.0/24", hosts: ["h1"], hostAccess: [Port.tcp(53)] });
    const r = lab.resolve();
    expect(r.lab).toBeUndefined();
    expect(r.issues).toEqual([{
      path: "stack/lab/Tenants/acme/web",
      message: "hostAccess (tcp/53) cannot be enforced on isolated segment 'acme-web': its guests have no router, so no route to their host; make it nat or routed, or remove hostAccess.",
    }]);
    // The same network as nat resolves, with its port.
    const ok = new Lab(new TerraformStack(new App(), "stack"), "lab");
    ok.addHost("h1");
    ok.addTenant("acme").addNetwork("web", { cidr: "10.0.0.0/24", hosts: ["h1"], mode: NetworkMode.nat(), hostAccess: [Port.tcp(53)] });
    expect(ok.resolve().lab!.segments[0].hostAccess).toEqual([Port.tcp(53).spec]);
  });

  it.each([["all ICMPv6", Port.allIcmpv6(), "icmpv6/all"], ["an ICMPv6 type", Port.icmpv6Type(128), "icmpv6/128"]])("%s is an error: guests reach their host over IPv4", (_, port, text) => {
    expect(theIssue(web(NAT, port))).toEqual({
      path: pathOf("web"),
      message: `hostAccess ${text}: guests reach their host over IPv4 (their router's link), so ICMPv6 cannot be allowed; use Port.allIcmp() or a TCP/UDP port.`,
    });
  });

  it.each([
    ["a port above 65535", Port.tcp(70000), "hostAccess tcp/70000: port 70000 is out of range: a port is 1-65535."],
    ["port 0", Port.udp(0), "hostAccess udp/0: port 0 is out of range: a port is 1-65535."],
    ["a reversed range", Port.udpRange(10, 5), "hostAccess udp/10-5: port range 10-5 is reversed; did you mean Port.udpRange(5, 10)?"],
  ])("%s is an error at the segment", (_, port, message) => {
    expect(theIssue(web(ROUTED, port))).toEqual({ path: pathOf("web"), message });
  });

  it("every bad port is reported, each once, besides the missing router", () => {
    const r = resolveLab(web(undefined, Port.allIcmpv6(), Port.tcp(0), Port.tcp(22)));
    expect(r.lab).toBeUndefined();
    expect(r.issues.map((i) => i.message)).toEqual([
      "hostAccess icmpv6/all: guests reach their host over IPv4 (their router's link), so ICMPv6 cannot be allowed; use Port.allIcmp() or a TCP/UDP port.",
      "hostAccess tcp/0: port 0 is out of range: a port is 1-65535.",
      noRouter("isolated", "icmpv6/all, tcp/0, tcp/22"),
    ]);
  });
});
