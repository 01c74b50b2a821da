import fc from "fast-check";
import { Peer, Port, peerText, portText } from "../../lib/net";

/**
 * Port and Peer: value objects made by static factories (AWS CDK aws-ec2 style), their specs and
 * their readable toString(). Values are not checked here (that happens when the lab resolves, so
 * the error carries the rule's path): a factory must keep exactly what it was given.
 */
describe("Port factories", () => {
  it.each([
    ["Port.tcp(22)", Port.tcp(22), { protocol: "tcp", from: 22, to: 22 }, "tcp/22"],
    ["Port.tcpRange(8000, 8080)", Port.tcpRange(8000, 8080), { protocol: "tcp", from: 8000, to: 8080 }, "tcp/8000-8080"],
    ["Port.allTcp()", Port.allTcp(), { protocol: "tcp", from: 1, to: 65535 }, "tcp/1-65535"],
    ["Port.udp(53)", Port.udp(53), { protocol: "udp", from: 53, to: 53 }, "udp/53"],
    ["Port.udpRange(5000, 5010)", Port.udpRange(5000, 5010), { protocol: "udp", from: 5000, to: 5010 }, "udp/5000-5010"],
    ["Port.allUdp()", Port.allUdp(), { protocol: "udp", from: 1, to: 65535 }, "udp/1-65535"],
    ["Port.icmpType(8)", Port.icmpType(8), { protocol: "icmp", type: 8 }, "icmp/8"],
    ["Port.icmpTypeAndCode(8, 0)", Port.icmpTypeAndCode(8, 0), { protocol: "icmp", type: 8, code: 0 }, "icmp/8:0"],
    ["Port.icmpTypeAndCode(3, 4)", Port.icmpTypeAndCode(3, 4), { protocol: "icmp", type: 3, code: 4 }, "icmp/3:4"],
    ["Port.allIcmp()", Port.allIcmp(), { protocol: "icmp" }, "icmp/all"],
    ["Port.icmpv6Type(128)", Port.icmpv6Type(128), { protocol: "icmpv6", type: 128 }, "icmpv6/128"],
    ["Port.allIcmpv6()", Port.allIcmpv6(), { protocol: "icmpv6" }, "icmpv6/all"],
    ["Port.allTraffic()", Port.allTraffic(), { protocol: "all" }, "all"],
  ])("%s", (_, port, spec, text) => {
    expect(port.spec).toEqual(spec);
    expect(port.toString()).toBe(text);
    expect(`${port}`).toBe(text);
    expect(portText(port.spec)).toBe(text);
  });

  it("a single port and a range of one port read the same (so rules de-duplicate on them)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 65535 }), (p) => {
      expect(Port.tcpRange(p, p).toString()).toBe(Port.tcp(p).toString());
      expect(Port.udpRange(p, p).toString()).toBe(Port.udp(p).toString());
      expect(Port.tcp(p).toString()).toBe(`tcp/${p}`);
    }));
  });

  it("a range reads from-to, whatever the numbers (bad ones are reported at resolve, not hidden here)", () => {
    fc.assert(fc.property(fc.integer({ min: -5, max: 70000 }), fc.integer({ min: -5, max: 70000 }), (a, b) => {
      fc.pre(a !== b);
      expect(Port.tcpRange(a, b).toString()).toBe(`tcp/${a}-${b}`);
      expect(Port.tcpRange(a, b).spec).toEqual({ protocol: "tcp", from: a, to: b });
    }));
  });

  it("tcp and udp of the same number are different ports", () => {
    expect(Port.tcp(53).toString()).not.toBe(Port.udp(53).toString());
    expect(Port.icmpType(8).toString()).not.toBe(Port.icmpv6Type(8).toString());
  });
});

describe("Peer factories", () => {
  it.each([
    ["Peer.ipv4('203.0.113.0/24')", Peer.ipv4("203.0.113.0/24"), { kind: "cidr", cidr: "203.0.113.0/24", family: 4 }, "203.0.113.0/24"],
    ["Peer.ipv6('2001:db8::/32')", Peer.ipv6("2001:db8::/32"), { kind: "cidr", cidr: "2001:db8::/32", family: 6 }, "2001:db8::/32"],
    ["Peer.anyIpv4()", Peer.anyIpv4(), { kind: "any", family: 4 }, "0.0.0.0/0"],
    ["Peer.anyIpv6()", Peer.anyIpv6(), { kind: "any", family: 6 }, "::/0"],
  ])("%s", (_, peer, spec, text) => {
    expect(peer.peerSpec).toEqual(spec);
    expect(peer.toString()).toBe(text);
    expect(peerText(peer.peerSpec)).toBe(text);
  });

  it("keeps a CIDR exactly as given (a bad one is reported at resolve with the rule's path)", () => {
    for (const text of ["10.0.0.1", "10.0.0.1/24", "2001:db8::/32", "not a cidr", "$(reboot)"]) {
      expect(Peer.ipv4(text).peerSpec).toEqual({ kind: "cidr", cidr: text, family: 4 });
      expect(Peer.ipv4(text).toString()).toBe(text);
    }
  });

  it("a group peer reads `group <name>`", () => {
    expect(peerText({ kind: "group", group: "x", lab: "stack/lab" })).toBe("group x");
    expect(peerText({ kind: "group", group: "web-tier", lab: "stack/lab" })).toBe("group web-tier");
  });

  it("any-IPv4 and the CIDR 0.0.0.0/0 read the same (so rules de-duplicate on them)", () => {
    expect(Peer.anyIpv4().toString()).toBe(Peer.ipv4("0.0.0.0/0").toString());
    expect(Peer.anyIpv6().toString()).toBe(Peer.ipv6("::/0").toString());
  });
});
