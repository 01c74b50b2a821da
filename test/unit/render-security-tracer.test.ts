import { Packet, parseRestore, tokenize, trace, verdict } from "./support/iptables";

/**
 * The test tracer's additions for security groups (support/iptables.ts): iptables-restore's
 * quoting, physdev ports, MAC and ipset matches, negation, port ranges, ICMP types and `-g`.
 * A tracer that matched too much would make every security test pass, so each feature is shown to
 * both match and not match, and to refuse what it does not understand.
 */
describe("tokenize (iptables-restore's argument splitting)", () => {
  it("splits on runs of spaces and tabs", () => {
    expect(tokenize("-s  10.0.0.0/8\t-j   ACCEPT")).toEqual(["-s", "10.0.0.0/8", "-j", "ACCEPT"]);
    expect(tokenize(" -j ACCEPT ")).toEqual(["-j", "ACCEPT"]);
  });

  it("keeps a double-quoted part as one argument, spaces and option-like text included", () => {
    expect(tokenize('-m comment --comment "--comment x -j ACCEPT" -j DROP')).toEqual(["-m", "comment", "--comment", "--comment x -j ACCEPT", "-j", "DROP"]);
    expect(tokenize('--comment "a b"c')).toEqual(["--comment", "a bc"]);
    expect(tokenize('--comment ""')).toEqual(["--comment", ""]);
  });

  it("inside quotes a backslash takes the next character; outside it is literal", () => {
    expect(tokenize('--comment "a\\"b" -j X')).toEqual(["--comment", 'a"b', "-j", "X"]);
    expect(tokenize("a\\b")).toEqual(["a\\b"]);
  });

  it("refuses an unterminated quote", () => {
    expect(() => tokenize('--comment "open -j ACCEPT')).toThrow('unterminated quote in: --comment "open -j ACCEPT');
  });

  it("parseRestore stores quoted comments as one word", () => {
    const t = parseRestore('*filter\n:X - [0:0]\n-A X -m comment --comment "two words" -j ACCEPT\nCOMMIT\n');
    expect(t.get("filter")!.get("X")).toEqual([["-m", "comment", "--comment", "two words", "-j", "ACCEPT"]]);
  });
});

describe("trace with the security group matches", () => {
  const tables = parseRestore([
    "*filter",
    ":SG - [0:0]",
    ":O - [0:0]",
    ":E - [0:0]",
    ":I - [0:0]",
    "-A SG -m physdev --physdev-in p1 --physdev-is-bridged -j O",
    "-A SG -m physdev --physdev-out p1 --physdev-is-bridged -j I",
    "-A O -m mac ! --mac-source 52:54:00:00:00:01 -j DROP",
    "-A O -s 10.0.0.1/32 -g E",
    "-A O -j DROP",
    "-A E -p tcp --dport 8000:8080 -j DROP",
    "-A E -j RETURN",
    "-A I -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A I -m set --match-set S4 src -p tcp --dport 3306 -m comment --comment \"from S\" -j ACCEPT",
    "-A I -p icmp --icmp-type 8/0 -j ACCEPT",
    "-A I -p udp --sport 67 --dport 68 -j ACCEPT",
    "-A I -j DROP",
    "COMMIT",
    "",
  ].join("\n"));
  const sets = new Map([["S4", ["10.0.0.7"]]]);
  const out = (p: Partial<Packet>): Packet => ({ src: "10.0.0.1", dst: "10.0.0.9", proto: "tcp", dport: 22, physIn: "p1", physOut: "vx", srcMac: "52:54:00:00:00:01", ...p });
  const into = (p: Partial<Packet>): Packet => ({ src: "10.0.0.7", dst: "10.0.0.1", proto: "tcp", dport: 3306, physIn: "vx", physOut: "p1", ...p });
  const v = (p: Packet) => verdict(tables, "filter", "SG", p, { sets }).target;

  it("-g: the goto'd chain's RETURN returns from the chain that jumped (O), so SG goes on", () => {
    expect(v(out({}))).toBe("END");
    expect(trace(tables, "filter", "O", out({}), { sets })).toEqual([{ probability: 1, target: "RETURN", args: [] }]);
  });

  it("-g is final: a verdict in the goto'd chain is not followed by O's own DROP, and a miss of the goto rule falls through to it", () => {
    expect(v(out({ dport: 8080 }))).toBe("DROP");
    expect(v(out({ src: "10.0.0.2" }))).toBe("DROP");
  });

  it("port ranges match inclusive from:to", () => {
    expect(v(out({ dport: 7999 }))).toBe("END");
    expect(v(out({ dport: 8000 }))).toBe("DROP");
    expect(v(out({ dport: 8081 }))).toBe("END");
  });

  it("! --mac-source drops a frame from another MAC, case-insensitively equal MACs pass", () => {
    expect(v(out({ srcMac: "52:54:00:00:00:02" }))).toBe("DROP");
    expect(v(out({ srcMac: "52:54:00:00:00:01".toUpperCase() }))).toBe("END");
  });

  it("physdev: only frames bridged to or from the port enter its chains", () => {
    expect(v(out({ physIn: "p2" }))).toBe("END");
    expect(v(into({ physOut: "p2" }))).toBe("END");
    expect(v(out({ physOut: undefined }))).toBe("END"); // not bridged: --physdev-is-bridged fails
  });

  it("-m set matches the packet's source against the set's members", () => {
    expect(v(into({}))).toBe("ACCEPT");
    expect(v(into({ src: "10.0.0.8" }))).toBe("DROP");
    expect(v(into({ dport: 3307 }))).toBe("DROP");
  });

  it("ICMP type/code, and udp source ports", () => {
    expect(v(into({ proto: "icmp", dport: undefined, icmpType: 8, icmpCode: 0 }))).toBe("ACCEPT");
    expect(v(into({ proto: "icmp", dport: undefined, icmpType: 8, icmpCode: 1 }))).toBe("DROP");
    expect(v(into({ proto: "icmp", dport: undefined, icmpType: 0, icmpCode: 0 }))).toBe("DROP");
    expect(v(into({ proto: "udp", sport: 67, dport: 68 }))).toBe("ACCEPT");
    expect(v(into({ proto: "udp", sport: 68, dport: 68 }))).toBe("DROP");
  });

  it("refuses what it cannot decide: an unknown set, a MAC match on a packet without one, an ICMP packet without a type", () => {
    expect(() => v(into({}))).not.toThrow();
    expect(() => verdict(tables, "filter", "SG", into({}))).toThrow("set S4 is not in the world the trace was given");
    expect(() => v(out({ srcMac: undefined }))).toThrow("has no srcMac for --mac-source");
    expect(() => v(into({ proto: "icmp", dport: undefined }))).toThrow("has no icmpType");
  });

  it("refuses options without their module or protocol, and '!' where iptables takes none", () => {
    const odd = (rule: string) => parseRestore(`*filter\n:X - [0:0]\n:Y - [0:0]\n-A X ${rule}\nCOMMIT\n`);
    const p = out({});
    expect(() => trace(odd("--physdev-in p1 -j ACCEPT"), "filter", "X", p)).toThrow("--physdev-in without -m physdev");
    expect(() => trace(odd("--match-set S4 src -j ACCEPT"), "filter", "X", p, { sets })).toThrow("--match-set without -m set");
    expect(() => trace(odd("-m set --match-set S4 src,dst -j ACCEPT"), "filter", "X", p, { sets })).toThrow("only one src or dst flag is understood");
    expect(() => trace(odd("--dport 22 -j ACCEPT"), "filter", "X", p)).toThrow("--dport without -p tcp|udp");
    expect(() => trace(odd("-p tcp --dport x -j ACCEPT"), "filter", "X", p)).toThrow("port 'x' is not a port or a from:to range");
    expect(() => trace(odd("-p tcp --icmp-type 8 -j ACCEPT"), "filter", "X", p)).toThrow("--icmp-type without -p icmp");
    expect(() => trace(odd("! -j ACCEPT"), "filter", "X", p)).toThrow("'!' before -j");
    expect(() => trace(odd("-m mac ! ! --mac-source 52:54:00:00:00:01 -j ACCEPT"), "filter", "X", p)).toThrow("'!' before ! in:");
    expect(() => trace(odd("-g NOPE"), "filter", "X", p)).toThrow("-g to NOPE, which is not a chain of the table");
    expect(() => trace(odd("-g Y --foo"), "filter", "X", p)).toThrow("-g Y with arguments");
    expect(() => trace(odd("-m mark --mark 1 -j ACCEPT"), "filter", "X", p)).toThrow("unknown match module mark");
  });

  it("negation works on any match it allows, e.g. ! -s", () => {
    const t = parseRestore("*filter\n:X - [0:0]\n-A X ! -s 10.0.0.0/8 -j DROP\n-A X -j ACCEPT\nCOMMIT\n");
    expect(verdict(t, "filter", "X", out({ src: "192.0.2.1" })).target).toBe("DROP");
    expect(verdict(t, "filter", "X", out({ src: "10.1.2.3" })).target).toBe("ACCEPT");
  });
});
