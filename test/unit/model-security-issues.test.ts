import fc from "fast-check";
import { GuestSpec, LabSpec, SecurityGroupSpec, SecurityRuleSpec, resolveLab } from "../../lib/model";
import { IPeer, PeerSpec, Peer, Port } from "../../lib/net";
import { LAB_PATH, emulatedLab, guest, host, hostsLab, pathOf, resolveOk, segment, sshHost, theIssue } from "./support/lab-specs";

/**
 * Bad input to security groups: every mistake is one issue, at the path of the construct that holds
 * it (a rule's path is its group's), with the exact message. Legal but pointless rules are warnings
 * and the lab still resolves.
 *
 * The lab: h1 and h2 on segment app (10.20.0.0/24, IPv4 only); web1 (10.20.0.11, h1) in group web,
 * db1 (10.20.0.21, h2) in group db; the rule under test is an ingress rule of db unless said.
 */
const group = (name: string, parts: Partial<SecurityGroupSpec> = {}, path = pathOf(name)): SecurityGroupSpec => ({
  name, path, ingress: [], egress: [], ...parts,
});
const peerOf = (p: IPeer | PeerSpec): PeerSpec => ("peerSpec" in p ? p.peerSpec : p);
const rule = (owner: string, peer: IPeer | PeerSpec, port: Port, description?: string, implied?: boolean): SecurityRuleSpec => ({
  path: pathOf(owner), peer: peerOf(peer), port: port.spec, description, implied,
});
const groupPeer = (name: string, lab = LAB_PATH): PeerSpec => ({ kind: "group", group: name, lab });

const web1 = (extra: Partial<GuestSpec> = {}) => guest("web1", "h1", [{ segment: "app", address: "10.20.0.11" }], { securityGroups: ["web"], ...extra });
const db1 = (extra: Partial<GuestSpec> = {}) => guest("db1", "h2", [{ segment: "app", address: "10.20.0.21" }], { securityGroups: ["db"], ...extra });

function lab(groups: SecurityGroupSpec[], parts: Partial<LabSpec> = {}): LabSpec {
  return emulatedLab({
    hosts: [host("h1"), host("h2")],
    segments: [segment("app", "10.20.0.0/24")],
    guests: [web1(), db1()],
    securityGroups: groups,
    ...parts,
  });
}

/** The lab with one ingress rule on db (and an empty web). */
const withDbIngress = (r: SecurityRuleSpec) => lab([group("web"), group("db", { ingress: [r] })]);
const withDbEgress = (r: SecurityRuleSpec) => lab([group("web"), group("db", { egress: [r] })]);
const atDb = (message: string) => ({ path: pathOf("db"), message });
const DESCRIPTION_RULE = "may only hold letters, digits, spaces and _ . , : ; / = + @ ( ) # % - (at most 255), so it can never reach a shell or the rule text.";

describe("security group issues", () => {
  it("the lab without mistakes resolves, with no warnings", () => {
    const r = resolveLab(withDbIngress(rule("db", groupPeer("web"), Port.tcp(3306), "mysql from web")));
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.lab!.securityGroups.map((g) => g.name)).toEqual(["web", "db"]);
  });

  describe("peers", () => {
    it.each([
      ["an IPv4 CIDR without a mask", Peer.ipv4("10.0.0.1"), "ingress rule 10.0.0.1 tcp/22: CIDR mask is missing in '10.0.0.1'. Did you mean '10.0.0.1/32'?"],
      ["an IPv6 CIDR without a mask", Peer.ipv6("2001:db8::1"), "ingress rule 2001:db8::1 tcp/22: CIDR mask is missing in '2001:db8::1'. Did you mean '2001:db8::1/128'?"],
      ["an IPv4 CIDR with host bits set", Peer.ipv4("10.0.0.1/24"), "ingress rule 10.0.0.1/24 tcp/22: '10.0.0.1/24' has host bits set. Did you mean '10.0.0.0/24'?"],
      ["an IPv6 CIDR with host bits set", Peer.ipv6("2001:db8::1/64"), "ingress rule 2001:db8::1/64 tcp/22: '2001:db8::1/64' has host bits set. Did you mean '2001:db8::/64'?"],
      ["a mask longer than 32", Peer.ipv4("10.0.0.0/33"), "ingress rule 10.0.0.0/33 tcp/22: '10.0.0.0/33' is not a CIDR such as '10.0.0.0/24' or 'fd00::/64'."],
      ["an inet_aton short form", Peer.ipv4("10.1/16"), "ingress rule 10.1/16 tcp/22: '10.1/16' is not a CIDR such as '10.0.0.0/24' or 'fd00::/64'."],
      ["shell text", Peer.ipv4("$(reboot)"), "ingress rule $(reboot) tcp/22: '$(reboot)' is not a CIDR such as '10.0.0.0/24' or 'fd00::/64'."],
      ["Peer.ipv4 given an IPv6 CIDR", Peer.ipv4("2001:db8::/32"), "ingress rule 2001:db8::/32 tcp/22: '2001:db8::/32' is an IPv6 CIDR; use Peer.ipv6('2001:db8::/32')."],
      ["Peer.ipv6 given an IPv4 CIDR", Peer.ipv6("10.0.0.0/8"), "ingress rule 10.0.0.0/8 tcp/22: '10.0.0.0/8' is an IPv4 CIDR; use Peer.ipv4('10.0.0.0/8')."],
    ])("%s", (_, peer, message) => {
      expect(theIssue(withDbIngress(rule("db", peer, Port.tcp(22))))).toEqual(atDb(message));
    });

    it("an egress rule names itself `egress rule` in the message", () => {
      expect(theIssue(withDbEgress(rule("db", Peer.ipv4("10.0.0.1"), Port.tcp(53))))).toEqual(
        atDb("egress rule 10.0.0.1 tcp/53: CIDR mask is missing in '10.0.0.1'. Did you mean '10.0.0.1/32'?"));
    });

    it("a group of another lab", () => {
      expect(theIssue(withDbIngress(rule("db", groupPeer("web", "stack/other"), Port.tcp(3306))))).toEqual(
        atDb("ingress rule group web tcp/3306: group 'web' belongs to lab stack/other, not to this lab (lab); a rule can only name groups of its own lab."));
    });

    it("a group of another lab is refused even when this lab has a group of the same name", () => {
      // web exists in this lab too: the name alone must not make the rule point at it.
      const r = resolveLab(withDbIngress(rule("db", groupPeer("web", "stack/other"), Port.tcp(3306))));
      expect(r.lab).toBeUndefined();
    });

    it("a group that is not in the lab", () => {
      expect(theIssue(withDbIngress(rule("db", groupPeer("cache"), Port.tcp(6379))))).toEqual(
        atDb("ingress rule group cache tcp/6379: group 'cache' is not in the lab."));
    });
  });

  describe("ports", () => {
    it.each([
      ["port 0", Port.tcp(0), "ingress rule 0.0.0.0/0 tcp/0: port 0 is out of range: a port is 1-65535."],
      ["port 65536", Port.tcp(65536), "ingress rule 0.0.0.0/0 tcp/65536: port 65536 is out of range: a port is 1-65535."],
      ["a negative udp port", Port.udp(-53), "ingress rule 0.0.0.0/0 udp/-53: port -53 is out of range: a port is 1-65535."],
      ["a fractional port", Port.tcp(22.5), "ingress rule 0.0.0.0/0 tcp/22.5: port 22.5 is out of range: a port is 1-65535."],
      ["Infinity", Port.udp(Infinity), "ingress rule 0.0.0.0/0 udp/Infinity: port Infinity is out of range: a port is 1-65535."],
      ["a range ending past 65535", Port.tcpRange(8000, 70000), "ingress rule 0.0.0.0/0 tcp/8000-70000: port 70000 is out of range: a port is 1-65535."],
      ["a range starting at 0", Port.udpRange(0, 10), "ingress rule 0.0.0.0/0 udp/0-10: port 0 is out of range: a port is 1-65535."],
      ["a reversed tcp range", Port.tcpRange(8080, 8000), "ingress rule 0.0.0.0/0 tcp/8080-8000: port range 8080-8000 is reversed; did you mean Port.tcpRange(8000, 8080)?"],
      ["a reversed udp range", Port.udpRange(10, 5), "ingress rule 0.0.0.0/0 udp/10-5: port range 10-5 is reversed; did you mean Port.udpRange(5, 10)?"],
      ["ICMP type 256", Port.icmpType(256), "ingress rule 0.0.0.0/0 icmp/256: ICMP type 256 is out of range 0-255."],
      ["ICMP type -1", Port.icmpType(-1), "ingress rule 0.0.0.0/0 icmp/-1: ICMP type -1 is out of range 0-255."],
      ["ICMP code 256", Port.icmpTypeAndCode(3, 256), "ingress rule 0.0.0.0/0 icmp/3:256: ICMP code 256 is out of range 0-255."],
      ["ICMP code 1.5", Port.icmpTypeAndCode(3, 1.5), "ingress rule 0.0.0.0/0 icmp/3:1.5: ICMP code 1.5 is out of range 0-255."],
    ])("%s", (_, port, message) => {
      expect(theIssue(withDbIngress(rule("db", Peer.anyIpv4(), port)))).toEqual(atDb(message));
    });

    it("ICMPv6 type 300", () => {
      expect(theIssue(withDbIngress(rule("db", Peer.anyIpv6(), Port.icmpv6Type(300))))).toEqual(
        atDb("ingress rule ::/0 icmpv6/300: ICMP type 300 is out of range 0-255."));
    });

    it("the limits themselves are fine: ports 1 and 65535, ICMP type and code 0 and 255", () => {
      const ok = [Port.tcp(1), Port.tcp(65535), Port.tcpRange(1, 65535), Port.udpRange(7, 7), Port.icmpType(0), Port.icmpTypeAndCode(255, 255), Port.icmpTypeAndCode(0, 0)];
      const r = resolveLab(lab([group("web"), group("db", { ingress: ok.map((p) => rule("db", Peer.anyIpv4(), p)) })]));
      expect(r.issues).toEqual([]);
    });

    it.each([
      ["icmp with an IPv6 CIDR", Peer.ipv6("2001:db8::/32"), Port.icmpType(8), "ingress rule 2001:db8::/32 icmp/8: icmp cannot match an IPv6 peer; use Port.icmpv6Type."],
      ["icmp with any IPv6", Peer.anyIpv6(), Port.allIcmp(), "ingress rule ::/0 icmp/all: icmp cannot match an IPv6 peer; use Port.icmpv6Type."],
      ["icmpv6 with an IPv4 CIDR", Peer.ipv4("10.0.0.0/8"), Port.icmpv6Type(128), "ingress rule 10.0.0.0/8 icmpv6/128: icmpv6 cannot match an IPv4 peer; use Port.icmpType."],
      ["icmpv6 with any IPv4", Peer.anyIpv4(), Port.allIcmpv6(), "ingress rule 0.0.0.0/0 icmpv6/all: icmpv6 cannot match an IPv4 peer; use Port.icmpType."],
    ])("%s", (_, peer, port, message) => {
      expect(theIssue(withDbIngress(rule("db", peer, port)))).toEqual(atDb(message));
    });
  });

  describe("descriptions", () => {
    const described = (d: string) => withDbIngress(rule("db", Peer.anyIpv4(), Port.tcp(22), d));

    it.each([
      ["a double quote", 'ssh" -j ACCEPT "'],
      ["command substitution", "$(reboot)"],
      ["backticks", "`reboot`"],
      ["a backslash", "a\\\" -j ACCEPT"],
      ["a single quote", "it's ssh"],
      ["a newline", "ssh\n-A FORWARD -j ACCEPT"],
      ["a tab", "ssh\tx"],
      ["a NUL", "ssh\u0000x"],
      ["braces (a Terraform template)", "%{if true}x%{endif}"],
      ["a heredoc terminator on its own", "CLOUDNET_EOF\nCLOUDNET_EOF"],
      ["a pipe and redirection", "a | tee /etc/x > /dev/null"],
      ["non-ASCII text", "zugriff für admins"],
    ])("%s", (_, d) => {
      expect(theIssue(described(d))).toEqual(atDb(`ingress rule 0.0.0.0/0 tcp/22: description '${d.slice(0, 60)}' ${DESCRIPTION_RULE}`));
    });

    it("over 255 characters (the message quotes only the first 60)", () => {
      const d = "x".repeat(256);
      expect(theIssue(described(d))).toEqual(atDb(`ingress rule 0.0.0.0/0 tcp/22: description '${"x".repeat(60)}' ${DESCRIPTION_RULE}`));
    });

    it("exactly 255 characters, and text that only reads like iptables options, are fine (rendering keeps them one comment)", () => {
      for (const d of ["x".repeat(255), "--comment x -j ACCEPT", "-j ACCEPT", "a; b = c + d @ (e) # 100%", ""]) {
        expect(resolveLab(described(d)).issues).toEqual([]);
      }
    });

    it("any text of the allowed characters up to 255 is accepted; any text with one other character is refused with the message", () => {
      const allowed = "ABCXYZabcxyz0189 _.,:;/=+@()#%-";
      const ok = fc.string({ unit: fc.constantFrom(...allowed), maxLength: 255 });
      fc.assert(fc.property(ok, (d) => {
        expect(resolveLab(described(d)).issues).toEqual([]);
      }), { numRuns: 200 });
      const bad = fc.tuple(
        fc.string({ unit: fc.constantFrom(...allowed), maxLength: 100 }),
        fc.constantFrom(..."\"'`$\\!&|;<>*?[]{}~^\n\r\t\u0000\u007f\u00e9\u2028".split("").filter((c) => !allowed.includes(c))),
        fc.string({ unit: fc.constantFrom(...allowed), maxLength: 100 }),
      ).map(([a, c, b]) => a + c + b);
      fc.assert(fc.property(bad, (d) => {
        expect(theIssue(described(d))).toEqual(atDb(`ingress rule 0.0.0.0/0 tcp/22: description '${d.slice(0, 60)}' ${DESCRIPTION_RULE}`));
      }), { numRuns: 200 });
    });
  });

  describe("groups and members", () => {
    it("a guest joining a group that is not in the lab", () => {
      // Regression (fixed): lib/model/resolve-security.ts:44 — the fix-it names `new ResolvedSecurityGroup(lab, 'cache')`,
      // which is the model's result type, not a construct: no user can write that. Repro: a guest with
      // securityGroups: ['cache'] in a lab without that group. Fix: say `new SecurityGroup(lab, 'cache')`.
      expect(theIssue(lab([group("web"), group("db")], { guests: [web1({ securityGroups: ["web", "cache"] }), db1()] }))).toEqual({
        path: pathOf("web1"),
        message: "guest 'web1' joins security group 'cache', which is not in the lab; create it with new SecurityGroup(lab, 'cache').",
      });
    });

    it("a group name used twice is reported at the second group", () => {
      expect(theIssue(lab([group("web"), group("db"), group("web", {}, "lab/web-again")]))).toEqual({
        path: "lab/web-again", message: "security group name 'web' is already used by lab/web; give each group its own name.",
      });
    });

    it("a group name that is not an identifier", () => {
      expect(theIssue(lab([group("web"), group("db"), group("Web_SG")]))).toEqual({
        path: pathOf("Web_SG"),
        message: "security group name 'Web_SG' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'web-sg'?",
      });
    });

    const vm = { kind: "vm" as const, vm: { image: "/var/lib/libvirt/images/debian-12.qcow2", memoryMiB: 512, vcpus: 1, user: "debian", pool: "default" } };
    const realLab = (compute: GuestSpec["compute"]) => hostsLab({
      hosts: [sshHost("h1", "192.0.2.10")],
      segments: [segment("app", "10.20.0.0/24")],
      guests: [guest("c1", "h1", [{ segment: "app", address: "10.20.0.11" }], { securityGroups: ["web"], compute })],
      securityGroups: [group("web", { ingress: [rule("web", Peer.anyIpv4(), Port.tcp(22))] })],
    });

    it("security groups on a container of a real-hosts lab fail closed (its veth name is Docker's)", () => {
      expect(theIssue(realLab({ kind: "container", container: { image: "debian:12-slim" } }))).toEqual({
        path: pathOf("c1"),
        message: "security groups on real-host containers are not supported: Docker names their host-side veths at random, so no rule can match them; put the guest on an emulated lab or use a VM.",
      });
    });

    it("... while a VM of a real-hosts lab may join a group", () => {
      const resolved = resolveOk(realLab(vm));
      expect(resolved.guests[0].nics[0].securityGroups).toEqual(["web"]);
    });
  });
});

describe("security group warnings (legal, but the rule matches nothing)", () => {
  it("a peer group without members: a warning at the rule, and the lab still resolves", () => {
    const r = resolveLab(lab([group("web"), group("db", { ingress: [rule("db", groupPeer("cache"), Port.tcp(3306))] }), group("cache")]));
    expect(r.issues).toEqual([]);
    expect(r.lab).toBeDefined();
    expect(r.warnings).toEqual([atDb("ingress rule group cache tcp/3306: group 'cache' has no members yet, so the rule matches nothing.")]);
    // The rule is kept all the same: once the group has members it matches them.
    expect(r.lab!.securityGroups.find((g) => g.name === "db")!.rules.map((x) => `${x.direction} ${x.family} ${x.peer.kind}`)).toEqual(["ingress 4 group", "ingress 6 group"]);
  });

  it("an egress rule to an empty group warns as an egress rule", () => {
    const r = resolveLab(lab([group("web"), group("db", { egress: [rule("db", groupPeer("cache"), Port.tcp(6379))] }), group("cache")]));
    expect(r.warnings).toEqual([atDb("egress rule group cache tcp/6379: group 'cache' has no members yet, so the rule matches nothing.")]);
  });

  it("an ICMPv6 rule whose peer group has no member with an IPv6 address", () => {
    const r = resolveLab(withDbIngress(rule("db", groupPeer("web"), Port.icmpv6Type(128))));
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([atDb("ingress rule group web icmpv6/128: group 'web' has no member with an IPv6 address, so the IPv6 rule matches nothing.")]);
  });

  it("no warning where the rule can match: a tcp rule from IPv4-only members, an ICMPv6 rule from dual-stack members", () => {
    expect(resolveLab(withDbIngress(rule("db", groupPeer("web"), Port.tcp(3306)))).warnings).toEqual([]);
    const dual = lab([group("web"), group("db", { ingress: [rule("db", groupPeer("web"), Port.icmpv6Type(128))] })], {
      segments: [segment("app", "10.20.0.0/24", { ipv6Cidr: "fd00:20::/64" })],
    });
    const r = resolveLab(dual);
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it.each([
    ["an IPv6 CIDR", Peer.ipv6("2001:db8::/32"), "ingress rule 2001:db8::/32 tcp/22"],
    ["any IPv6 address, ICMPv6", Peer.anyIpv6(), "ingress rule ::/0 icmpv6/128"],
  ])("an IPv6 peer (%s) on a group whose members have no IPv6 address", (_, peer, where) => {
    // Regression (fixed): lib/model/resolve-security.ts:90-103 (the any/cidr cases of resolveRule) — the issue asks for a warning when an IPv6 peer is used
    // on a group whose members have no IPv6 address (the IPv6 rule then guards nothing); only a *peer
    // group* without IPv6 members is warned about, a CIDR or any-IPv6 peer never is. Repro:
    // db (members IPv4 only).addIngressRule(Peer.ipv6('2001:db8::/32'), Port.tcp(22)) resolves with no
    // warning. Fix: in resolveRule, for an `any`/`cidr` peer of family 6 (and a group peer whose IPv6
    // half is all that is left) check members(<owning group>, 6).length === 0 and push
    // `${where}: group '<owner>' has no member with an IPv6 address, so the IPv6 rule matches nothing.`
    const port = where.endsWith("icmpv6/128") ? Port.icmpv6Type(128) : Port.tcp(22);
    const r = resolveLab(withDbIngress(rule("db", peer, port)));
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([atDb(`${where}: group 'db' has no member with an IPv6 address, so the IPv6 rule matches nothing.`)]);
  });
});
