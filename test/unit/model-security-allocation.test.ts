import fc from "fast-check";
import { GuestSpec, LabSpec, MAX_IPSET_NAME, SecurityGroupSpec, SecurityRuleSpec, ipsetMarker, ipsetName, maxelemFor, resolveLab } from "../../lib/model";
import { shortHash, Peer, PeerSpec, Port } from "../../lib/net";
import { tempSetName } from "../../lib/render";
import { LAB_PATH, emulatedLab, guest, host, pathOf, resolveOk, segment } from "./support/lab-specs";

/**
 * What resolving security groups allocates: ipset names (within the kernel's 31 characters),
 * maxelem, the member sets per family, and whether egress is restricted.
 */
const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const identifier = fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/);

const group = (name: string, parts: Partial<SecurityGroupSpec> = {}): SecurityGroupSpec => ({ name, path: pathOf(name), ingress: [], egress: [], ...parts });
const rule = (owner: string, peer: PeerSpec, port: Port, implied?: boolean): SecurityRuleSpec => ({ path: pathOf(owner), peer, port: port.spec, implied });
const groupPeer = (name: string): PeerSpec => ({ kind: "group", group: name, lab: LAB_PATH });

function lab(groups: SecurityGroupSpec[], guests: GuestSpec[], parts: Partial<LabSpec> = {}): LabSpec {
  return emulatedLab({ hosts: [host("h1"), host("h2")], segments: [segment("app", "10.20.0.0/16")], guests, securityGroups: groups, ...parts });
}

describe("ipset names", () => {
  it("are cn-<prefix>-<group>-<family> when that fits", () => {
    expect(ipsetName("lab", "web", 4)).toBe("cn-lab-web-4");
    expect(ipsetName("lab", "web", 6)).toBe("cn-lab-web-6");
    expect(ipsetMarker("lab")).toBe("cn-lab-");
    expect(MAX_IPSET_NAME).toBe(31);
  });

  it("at exactly 31 characters stay readable; one more and the group part is a hash", () => {
    const fits = "g".repeat(31 - "cn-lab--4".length);
    expect(ipsetName("lab", fits, 4)).toBe(`cn-lab-${fits}-4`);
    expect(ipsetName("lab", fits, 4)).toHaveLength(31);
    const long = `${fits}x`;
    expect(ipsetName("lab", long, 4)).toBe(`cn-lab-${shortHash(long, 31 - 3 - 6)}-4`);
    expect(ipsetName("lab", long, 4)).toHaveLength(31);
  });

  it("always fit 31 characters, start with the lab's marker and end with the family, for any prefix and group name", () => {
    fc.assert(fc.property(prefix, identifier, fc.constantFrom(4 as const, 6 as const), (p, g, f) => {
      const name = ipsetName(p, g, f);
      expect(name.length).toBeLessThanOrEqual(MAX_IPSET_NAME);
      expect(name.startsWith(ipsetMarker(p))).toBe(true);
      expect(name.endsWith(`-${f}`)).toBe(true);
      expect(/^[a-z0-9-]+$/.test(name)).toBe(true);
      if (`cn-${p}-${g}-${f}`.length <= MAX_IPSET_NAME) expect(name).toBe(`cn-${p}-${g}-${f}`);
      else expect(name).toHaveLength(MAX_IPSET_NAME);
    }), { numRuns: 1000 });
  });

  it("are distinct for distinct groups of one lab, and per family", () => {
    fc.assert(fc.property(prefix, fc.uniqueArray(identifier, { minLength: 2, maxLength: 30 }), (p, groups) => {
      const names = groups.flatMap((g) => [ipsetName(p, g, 4), ipsetName(p, g, 6)]);
      expect(new Set(names).size).toBe(names.length);
    }), { numRuns: 300 });
  });

  it("the temporary twin (restore, then swap) has the same length and the ct- marker, so it fits too", () => {
    fc.assert(fc.property(prefix, identifier, fc.constantFrom(4 as const, 6 as const), (p, g, f) => {
      const live = ipsetName(p, g, f);
      const temp = tempSetName(live);
      expect(temp).toHaveLength(live.length);
      expect(temp.startsWith(`ct-${p}-`)).toBe(true);
      expect(temp).not.toBe(live);
    }), { numRuns: 500 });
  });

  it("a resolved group carries its sets, and a rule naming it carries the same set", () => {
    const name = "a-group-name-well-over-the-limit";
    const r = resolveOk(lab(
      [group(name), group("db", { ingress: [rule("db", groupPeer(name), Port.tcp(3306))] })],
      [guest("w1", "h1", [{ segment: "app" }], { securityGroups: [name] }), guest("d1", "h2", [{ segment: "app" }], { securityGroups: ["db"] })],
      { prefix: "abcdef" },
    ));
    const g = r.securityGroups.find((x) => x.name === name)!;
    expect(g.sets).toEqual({ 4: ipsetName("abcdef", name, 4), 6: ipsetName("abcdef", name, 6) });
    expect(g.sets[4]).toHaveLength(31);
    const sets = r.securityGroups.find((x) => x.name === "db")!.rules.map((x) => (x.peer.kind === "group" ? [x.family, x.peer.set] : []));
    expect(sets).toEqual([[4, g.sets[4]], [6, g.sets[6]]]);
  });
});

describe("maxelem", () => {
  it("is at least 1,024, a power of two, at least twice the members, and the smallest such", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5_000_000 }), (members) => {
      const m = maxelemFor(members);
      expect(m).toBeGreaterThanOrEqual(1024);
      expect(Number.isInteger(Math.log2(m))).toBe(true);
      expect(m).toBeGreaterThanOrEqual(2 * members);
      if (m > 1024) expect(m / 2).toBeLessThan(2 * members);
    }), { numRuns: 2000 });
  });

  it.each([[0, 1024], [1, 1024], [512, 1024], [513, 2048], [1024, 2048], [1025, 4096], [100_000, 262_144]])("%d members: %d", (members, want) => {
    expect(maxelemFor(members)).toBe(want);
  });

  it("is sized from the group's own members when resolved (600 members: 2,048)", () => {
    const guests = Array.from({ length: 600 }, (_, i) => guest(`w${i}`, i % 2 ? "h1" : "h2", [{ segment: "app" }], { securityGroups: ["web"] }));
    const r = resolveOk(lab([group("web"), group("db")], [...guests, guest("d1", "h1", [{ segment: "app" }], { securityGroups: ["db"] })]));
    const web = r.securityGroups.find((g) => g.name === "web")!;
    expect(web.members[4]).toHaveLength(600);
    expect(web.maxelem).toBe(2048);
    expect(r.securityGroups.find((g) => g.name === "db")!.maxelem).toBe(1024);
  });
});

describe("members", () => {
  it("are the addresses of every NIC of every guest in the group, on any host, per family", () => {
    const r = resolveOk(lab(
      [group("web"), group("db")],
      [
        guest("w1", "h1", [{ segment: "app", address: "10.20.0.11", address6: "fd00:20::11" }, { segment: "back", address: "10.30.0.11" }], { securityGroups: ["web"] }),
        guest("w2", "h2", [{ segment: "app", address: "10.20.0.12", address6: "fd00:20::12" }], { securityGroups: ["web", "db"] }),
        guest("d1", "h2", [{ segment: "app", address: "10.20.0.21", address6: "fd00:20::21" }], { securityGroups: ["db"] }),
        guest("free", "h1", [{ segment: "app", address: "10.20.0.99" }]),
      ],
      { segments: [segment("app", "10.20.0.0/16", { ipv6Cidr: "fd00:20::/64" }), segment("back", "10.30.0.0/24")] },
    ));
    const members = (name: string) => {
      const g = r.securityGroups.find((x) => x.name === name)!;
      return { 4: g.members[4].map(String), 6: g.members[6].map(String) };
    };
    expect(members("web")).toEqual({ 4: ["10.20.0.11", "10.30.0.11", "10.20.0.12"], 6: ["fd00:20::11", "fd00:20::12"] });
    expect(members("db")).toEqual({ 4: ["10.20.0.12", "10.20.0.21"], 6: ["fd00:20::12", "fd00:20::21"] });
    // And the NICs carry their groups (a guest's groups apply to all its NICs); the free guest none.
    expect(r.guests.map((g) => [g.name, g.nics.map((n) => n.securityGroups)])).toEqual([
      ["w1", [["web"], ["web"]]], ["w2", [["web", "db"]]], ["d1", [["db"]]], ["free", [[]]],
    ]);
  });

  it("a guest naming a group twice is a member once", () => {
    const r = resolveOk(lab([group("web")], [guest("w1", "h1", [{ segment: "app", address: "10.20.0.11" }], { securityGroups: ["web", "web"] })]));
    expect(r.guests[0].nics[0].securityGroups).toEqual(["web"]);
    expect(r.securityGroups[0].members[4].map(String)).toEqual(["10.20.0.11"]);
  });
});

describe("restrictEgress", () => {
  const guests = [guest("w1", "h1", [{ segment: "app" }], { securityGroups: ["web"] }), guest("d1", "h2", [{ segment: "app" }], { securityGroups: ["db"] })];
  const web = (parts: Partial<SecurityGroupSpec>) => resolveOk(lab([group("web", parts), group("db")], guests)).securityGroups.find((g) => g.name === "web")!;

  it("is off by default: egress is open", () => {
    expect(web({}).restrictEgress).toBe(false);
    expect(web({ allowAllOutbound: true }).restrictEgress).toBe(false);
  });

  it("is on with allowAllOutbound false, even without any egress rule", () => {
    expect(web({ allowAllOutbound: false }).restrictEgress).toBe(true);
  });

  it("is on once an explicit egress rule is given", () => {
    expect(web({ egress: [rule("web", Peer.ipv4("10.0.0.0/8").peerSpec, Port.tcp(53))] }).restrictEgress).toBe(true);
    expect(web({ egress: [rule("web", groupPeer("db"), Port.tcp(3306), false)] }).restrictEgress).toBe(true);
  });

  it("is not turned on by an implied egress rule (the other side of a connections call)...", () => {
    const g = web({ egress: [rule("web", groupPeer("db"), Port.tcp(3306), true)] });
    expect(g.restrictEgress).toBe(false);
    expect(g.rules.filter((r) => r.direction === "egress")).toHaveLength(2);
  });

  it("... but is on with an implied rule plus one explicit rule, or with allowAllOutbound false", () => {
    expect(web({ egress: [rule("web", groupPeer("db"), Port.tcp(3306), true), rule("web", Peer.anyIpv4().peerSpec, Port.udp(53))] }).restrictEgress).toBe(true);
    expect(web({ allowAllOutbound: false, egress: [rule("web", groupPeer("db"), Port.tcp(3306), true)] }).restrictEgress).toBe(true);
  });

  it("rules are one per family they can match: tcp to a group is IPv4 and IPv6, ICMP IPv4 only, a CIDR its own family", () => {
    const g = web({
      ingress: [rule("web", groupPeer("db"), Port.tcp(22)), rule("web", Peer.anyIpv4().peerSpec, Port.icmpType(8)), rule("web", Peer.ipv6("2001:db8::/32").peerSpec, Port.allTraffic())],
    });
    expect(g.rules.map((r) => `${r.direction} ${r.family} ${r.port.protocol}`)).toEqual(["ingress 4 tcp", "ingress 6 tcp", "ingress 4 icmp", "ingress 6 all"]);
  });

  it("an explicit rule is explicit whether `implied` is false or absent", () => {
    const a = web({ egress: [rule("web", groupPeer("db"), Port.tcp(3306), false)] });
    const b = web({ egress: [rule("web", groupPeer("db"), Port.tcp(3306))] });
    expect(a).toEqual(b);
    expect(resolveLab(lab([group("web"), group("db")], guests)).issues).toEqual([]);
  });
});
