import fc from "fast-check";
import { GuestSpec, LabSpec, ResolvedLab, SecurityGroupSpec, SecurityRuleSpec, formatIssues } from "../../lib/model";
import { IPeer, IpAddress, MacAddress, PeerSpec, Peer, Port } from "../../lib/net";
import { HELPER_LIBRARY, Stage, chainName, linkLocal, renderLab } from "../../lib/render";
import { securityLab } from "../kernel/fixtures/security-lab";
import { HEREDOC, applyHooks, hookLinesOf } from "./support/firewall-stage";
import { Packet, Tables, World, parseRestore, verdict } from "./support/iptables";
import { LAB_PATH, emulatedLab, guest, host, pathOf, resolveOk, segment } from "./support/lab-specs";

/**
 * Security group rules as a host receives them: the `firewall/<host>` stage's iptables-restore
 * payloads, its hook lines (applied to built-in chains the way `cn_hook_first` does) and its ipset
 * restores, read back and traced packet by packet through the host's FORWARD chain.
 */

// ---- reading a firewall stage back --------------------------------------------------------------

interface Shipped {
  readonly tables: Record<4 | 6, Tables>;
  /** Built-in chains after the hook lines ran (on top of `foreign`), e.g. "filter FORWARD" -> chains. */
  readonly builtins: Record<4 | 6, Map<string, string[]>>;
  /** The hook lines in script order, per family: "table BUILTIN CHAIN". */
  readonly hookLines: Record<4 | 6, string[]>;
  /** Live ipsets after the script's ipset commands ran, by name. */
  readonly world: World;
}

type LiveSets = Map<string, { type: string; members: string[] }>;

const sortedIps = (ips: readonly string[]) => ips.map((ip) => IpAddress.parse(ip).toString()).sort();

/**
 * The ipset commands of a script, run against `sets` (name -> members); strict about their shapes.
 * Each set's update is one block: `if ! cn_ipset_same NAME MAXELEM MEMBER...; then`, its ipset lines
 * indented by two, `fi`. The block runs only when the live set differs (what cn_ipset_same checks:
 * same maxelem, same members in any order), and what it builds must be exactly what its guard checks.
 */
function runIpset(script: string, sets: LiveSets = new Map()): LiveSets {
  const restore = (body: string) => {
    for (const line of body.split("\n")) {
      const w = line.split(" ");
      if (w[0] === "create" && w.length === 7 && w[2] === "hash:ip" && w[3] === "family" && w[5] === "maxelem") {
        if (sets.has(w[1])) throw new Error(`ipset restore: set ${w[1]} exists`);
        sets.set(w[1], { type: w.slice(2).join(" "), members: [] });
      } else if (w[0] === "add" && w.length === 3) {
        const s = sets.get(w[1]);
        if (!s) throw new Error(`ipset restore: add to missing set ${w[1]}`);
        if (s.members.length >= Number(s.type.split(" ")[4])) throw new Error(`ipset restore: ${w[1]} is full`);
        s.members.push(IpAddress.parse(w[2]).toString());
      } else if (w[0] === "swap" && w.length === 3) {
        const a = sets.get(w[1]);
        const b = sets.get(w[2]);
        if (!a || !b) throw new Error(`ipset restore: swap of missing set in '${line}'`);
        if (a.type.split(" ")[2] !== b.type.split(" ")[2]) throw new Error(`ipset restore: swap across families in '${line}'`);
        sets.set(w[1], b);
        sets.set(w[2], a);
      } else if (w[0] === "destroy" && w.length === 2) {
        if (!sets.delete(w[1])) throw new Error(`ipset restore: destroy of missing set ${w[1]}`);
      } else throw new Error(`ipset restore: unexpected line '${line}'`);
    }
  };
  const same = (name: string, maxelem: string, members: readonly string[]) => {
    const live = sets.get(name);
    return !!live && live.type.split(" ")[4] === maxelem && JSON.stringify(sortedIps(live.members)) === JSON.stringify(sortedIps(members));
  };
  // The helpers' own text (cn_ipset_same's body holds ipset lines) is not part of the update.
  // A script that guards a set sources the helper library, which defines the helper.
  if (/^if ! cn_ipset_same /m.test(script) && !(/^\. "\$cn_lib"$/m.test(script) && /^cn_ipset_same\(\) \{$/m.test(HELPER_LIBRARY))) {
    throw new Error("a set is guarded but the ipset helpers are missing");
  }
  const body = new Map<string, string>();
  const text = withoutFunctions(script).replace(HEREDOC, (_, cmd: string, b: string) => {
    const id = `@@heredoc${body.size}`;
    body.set(id, b);
    return `${cmd} ${id}`;
  }).replace(/\n+$/, "");
  let block: { name: string; maxelem: string; members: string[]; run: boolean; restored: boolean } | undefined;
  for (const l of text.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^if ! cn_ipset_same (\S+) (\d+)((?: \S+)*); then$/.exec(l))) {
      if (block) throw new Error(`nested ipset block: ${l}`);
      const members = m[3].split(" ").filter(Boolean);
      block = { name: m[1], maxelem: m[2], members, run: !same(m[1], m[2], members), restored: false };
      continue;
    }
    if (block && l === "fi") {
      if (!block.restored) throw new Error(`ipset block of ${block.name} restores nothing`);
      if (block.run && !same(block.name, block.maxelem, block.members)) {
        throw new Error(`ipset block of ${block.name} builds ${JSON.stringify(sets.get(block.name))}, not what its guard checks`);
      }
      block = undefined;
      continue;
    }
    if (!/^\s*ipset /.test(l)) continue;
    if (!block) throw new Error(`ipset line outside an 'if ! cn_ipset_same' block: ${l}`);
    if (!l.startsWith("  ipset ")) throw new Error(`ipset line not indented in its block: ${l}`);
    const c = l.slice(2);
    if ((m = /^ipset destroy (\S+) 2>\/dev\/null \|\| true$/.exec(c))) {
      if (block.run) sets.delete(m[1]);
    } else if ((m = /^ipset list -n (\S+) >\/dev\/null 2>&1 \|\| ipset create (\S+) (hash:ip family inet6? maxelem (\d+))$/.exec(c))) {
      if (m[1] !== m[2]) throw new Error(`checks ${m[1]} but creates ${m[2]}`);
      if (m[1] !== block.name || m[4] !== block.maxelem) throw new Error(`block of ${block.name} (maxelem ${block.maxelem}) creates ${m[1]} ${m[3]}`);
      if (block.run && !sets.has(m[1])) sets.set(m[1], { type: m[3], members: [] });
    } else if ((m = /^ipset restore (@@heredoc\d+)$/.exec(c))) {
      if (block.run) restore(body.get(m[1])!);
      block.restored = true;
    } else throw new Error(`unexpected ipset line: ${l}`);
  }
  if (block) throw new Error(`ipset block of ${block.name} has no fi`);
  return sets;
}

function shipped(stages: readonly Stage[], hostName: string, foreign: Record<string, string[]> = {}): Shipped {
  const stage = stages.find((s) => s.id === `firewall/${hostName}`);
  if (!stage) throw new Error(`no firewall/${hostName} stage`);
  const docs = [...stage.apply.matchAll(HEREDOC)].map((m) => ({ cmd: m[1], body: m[2] }));
  const payload = (tool: string) => {
    const found = docs.filter((d) => d.cmd === `cn_in - ${tool} -w --noflush`);
    if (found.length !== 1) throw new Error(`expected one ${tool} payload on ${hostName}, found ${found.length}`);
    return parseRestore(found[0].body + "\n");
  };
  const hookLines = hookLinesOf(stage.apply);
  const sets = runIpset(stage.apply);
  const tables = { 4: payload("iptables-restore"), 6: payload("ip6tables-restore") };
  const builtins = { 4: applyHooks(hookLines[4], foreign), 6: applyHooks(hookLines[6], foreign) };
  // The built-in FORWARD (policy ACCEPT) as a chain the tracer can enter: the lab's jumps the hooks left there.
  for (const f of [4, 6] as const) {
    const filter = tables[f].get("filter");
    if (filter) filter.set("FORWARD", (builtins[f].get("filter FORWARD") ?? []).filter((c) => filter.has(c)).map((c) => ["-j", c]));
  }
  return { tables, builtins, hookLines, world: { sets: new Map([...sets].map(([k, v]) => [k, v.members])) } };
}

/**
 * What FORWARD does with a packet on a host: ACCEPT or DROP by the lab's rules, or END (not the lab's:
 * it falls through to the host's own rules and policy).
 */
function forward(s: Shipped, family: 4 | 6, pkt: Packet): string {
  return verdict(s.tables[family], "filter", "FORWARD", pkt, s.world).target;
}

const rulesOf = (t: Tables, chain: string) => (t.get("filter")!.get(chain) ?? []).map((r) => r.join(" "));
/**
 * A chain's rules where only the order that changes a verdict is pinned: `first` lead (in any order
 * among themselves), `last` closes (exactly), and `middle` sits between in any order. Rules in a
 * `middle` have one verdict kind and disjoint or equally-judged matches, so their order is free.
 */
function expectChain(actual: readonly string[], shape: { first?: readonly string[]; middle: readonly string[]; last: readonly string[] }): void {
  const first = shape.first ?? [];
  const sorted = (x: readonly string[]) => [...x].sort();
  expect(sorted(actual)).toEqual(sorted([...first, ...shape.middle, ...shape.last]));
  expect(sorted(actual.slice(0, first.length))).toEqual(sorted(first));
  expect(actual.slice(actual.length - shape.last.length)).toEqual(shape.last);
}
const STATE_OUT = ["-m conntrack --ctstate INVALID -j DROP", "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"];
const STATE_IN = ["-m conntrack --ctstate INVALID -j DROP", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"];

const ruleCount = (t: Tables) => [...t.values()].reduce((n, chains) => n + [...chains.values()].reduce((m, rules) => m + rules.length, 0), 0);

function resolved(l: { resolve(): { lab?: ResolvedLab; issues: readonly { path: string; message: string }[] } }): ResolvedLab {
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

// ---- the kernel tier's two-tier lab -------------------------------------------------------------

/**
 * securityLab: routed 10.20.0.0/24 with its gateway on h1; web takes tcp/8080 from anywhere and
 * tcp/22 from 203.0.113.0/24; db takes tcp/3306 from web's members and tcp/22 from the admin net.
 * web1 on h1, web2 and db1 on h2.
 */
describe("security group rules of the two-tier lab", () => {
  const lab = resolved(securityLab("sec"));
  const stages = renderLab(lab);
  const h1 = shipped(stages, "h1");
  const h2 = shipped(stages, "h2");
  const byHost: Record<string, Shipped> = { h1, h2 };
  const app = lab.segments[0];
  const overlay = app.overlayDev!;
  const router = app.gateway!.router;
  const nicOf = (g: string) => lab.guests.find((x) => x.name === g)!.nics[0];
  const guestHost = (g: string) => lab.guests.find((x) => x.name === g)!.host;
  const chain = (purpose: string) => chainName("sec", purpose);

  /** The legs a frame takes between two guests: one host if they share it, else out over the overlay and in. */
  function between(src: string, dst: string, p: Partial<Packet>): Array<[string, Packet]> {
    const base: Packet = {
      src: nicOf(src).address.toString(), dst: nicOf(dst).address.toString(), proto: "tcp", sport: 40000,
      srcMac: nicOf(src).mac.toString(), in: app.bridge, out: app.bridge, ...p,
    };
    if (guestHost(src) === guestHost(dst)) return [[guestHost(src), { ...base, physIn: nicOf(src).hostDev, physOut: nicOf(dst).hostDev }]];
    return [[guestHost(src), { ...base, physIn: nicOf(src).hostDev, physOut: overlay }], [guestHost(dst), { ...base, physIn: overlay, physOut: nicOf(dst).hostDev }]];
  }

  /** From an external through the gateway on h1: routed into the router, then bridged to the guest. */
  function fromOutside(srcIp: string, dst: string, p: Partial<Packet>): Array<[string, Packet]> {
    const base: Packet = { src: srcIp, dst: nicOf(dst).address.toString(), proto: "tcp", sport: 40000, ...p };
    const routed: [string, Packet] = ["h1", { ...base, in: lab.hosts[0].uplink, out: router.hostLink }];
    const bridged: Packet = { ...base, in: app.bridge, out: app.bridge, srcMac: "02:00:00:00:00:01" };
    if (guestHost(dst) === "h1") return [routed, ["h1", { ...bridged, physIn: router.bridgePort, physOut: nicOf(dst).hostDev }]];
    return [routed, ["h1", { ...bridged, physIn: router.bridgePort, physOut: overlay }], [guestHost(dst), { ...bridged, physIn: overlay, physOut: nicOf(dst).hostDev }]];
  }

  const fates = (legs: Array<[string, Packet]>) => legs.map(([h, pkt]) => forward(byHost[h], 4, pkt));
  const passes = (legs: Array<[string, Packet]>) => fates(legs).every((t) => t !== "DROP");

  it("the lab resolves without warnings", () => {
    expect(securityLab("sec").resolve().warnings).toEqual([]);
  });

  it("per host, only the NICs of its own guarded guests get chains, in both families", () => {
    const nicChains = (t: Tables) => [...t.get("filter")!.keys()].filter((c) => /^CN-sec-[OEI]-/.test(c)).sort();
    const want = (...guests: string[]) => guests.flatMap((g) => ["O", "E", "I"].map((k) => chain(`${k}-${g}-0`))).sort();
    for (const f of [4, 6] as const) {
      expect(nicChains(h1.tables[f])).toEqual(want("web1"));
      expect(nicChains(h2.tables[f])).toEqual(want("web2", "db1"));
    }
    // The security groups' chains, then the host guard's (h1 is the gateway: its routers' tunnel filter too).
    expect([...h1.tables[4].get("filter")!.keys()].filter((c) => c !== "FORWARD")).toEqual(["CN-sec-SG", ...["O", "E", "I"].map((k) => chain(`${k}-web1-0`)), "CN-sec-FWD", "CN-sec-TUNNEL", "CN-sec-IN"]);
    expect([...h2.tables[4].get("filter")!.keys()].filter((c) => c !== "FORWARD")).toEqual(["CN-sec-SG", ...["O-web2-0", "E-web2-0", "O-db1-0", "E-db1-0", "I-web2-0", "I-db1-0"].map(chain), "CN-sec-FWD", "CN-sec-IN"]);
    // The IPv6 payload has the host guard's conntrack zones and the filter table (no NAT for IPv6).
    expect([...h2.tables[6].keys()]).toEqual(["raw", "filter"]);
    expect([...h1.tables[4].keys()]).toEqual(["raw", "nat", "filter"]);
  });

  it("SG sends frames from a guarded port to its O- chain and frames to it to its I- chain, every O- before any I-", () => {
    // The order matters: an I- ACCEPT is final, so a frame between two guarded ports must pass the
    // sender's anti-spoofing (O-) before the receiver's ingress (I-) can accept it.
    for (const [s, guests] of [[h1, ["web1"]], [h2, ["web2", "db1"]]] as const) {
      for (const f of [4, 6] as const) {
        const got = rulesOf(s.tables[f], "CN-sec-SG");
        expect([...got.slice(0, guests.length)].sort()).toEqual(guests.map((g) => `-m physdev --physdev-in ${nicOf(g).hostDev} --physdev-is-bridged -j ${chain(`O-${g}-0`)}`).sort());
        expect([...got.slice(guests.length)].sort()).toEqual(guests.map((g) => `-m physdev --physdev-out ${nicOf(g).hostDev} --physdev-is-bridged -j ${chain(`I-${g}-0`)}`).sort());
      }
    }
  });

  it("SG is not hooked itself: FWD (the host guard) is FORWARD's one lab hook in both families on every host; it accepts packets of accepted connections on each bridge, then sends the other bridged frames to SG", () => {
    for (const s of [h1, h2]) {
      for (const f of [4, 6] as const) {
        expect(s.hookLines[f].filter((l) => l.startsWith("filter FORWARD"))).toEqual(["filter FORWARD CN-sec-FWD"]);
        expect(s.builtins[f].get("filter FORWARD")).toEqual(["CN-sec-FWD"]);
        const fwd = rulesOf(s.tables[f], "CN-sec-FWD");
        const jump = fwd.indexOf("-m physdev --physdev-is-bridged -j CN-sec-SG");
        expect(jump).toBeGreaterThan(0);
        // Only the lab's own bridged frames, only RELATED,ESTABLISHED: other traffic of the host goes on untouched.
        for (const r of fwd.slice(0, jump)) expect(r).toMatch(/^-i (secb-\S+) -o \1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT$/);
      }
    }
  });

  it("a second apply leaves the built-in chains as they are; a foreign jump stays below the lab's, and one inserted above it is put below again", () => {
    const foreign = { "filter FORWARD": ["DOCKER-USER", "DOCKER-FORWARD"] };
    const once = shipped(stages, "h1", foreign).builtins[4];
    expect(once.get("filter FORWARD")).toEqual(["CN-sec-FWD", "DOCKER-USER", "DOCKER-FORWARD"]);
    const twice = applyHooks(h1.hookLines[4], Object.fromEntries(once));
    expect(twice).toEqual(once);
    // Docker restarted and inserted its jump on top: the next apply puts the lab's back above it, once.
    const pushed = { ...Object.fromEntries(once), "filter FORWARD": ["DOCKER-USER", "CN-sec-FWD", "DOCKER-FORWARD"] };
    expect(applyHooks(h1.hookLines[4], pushed).get("filter FORWARD")).toEqual(["CN-sec-FWD", "DOCKER-USER", "DOCKER-FORWARD"]);
  });

  it("O- (IPv4): a wrong MAC is dropped, a DHCP discover returns, the NIC's own address goes (-g) to E-, the rest is dropped", () => {
    const n = nicOf("web1");
    expectChain(rulesOf(h1.tables[4], chain("O-web1-0")), {
      first: [`-m mac ! --mac-source ${n.mac} -j DROP`],
      middle: ["-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp --sport 68 --dport 67 -j RETURN", `-s ${n.address}/32 -g ${chain("E-web1-0")}`],
      last: ["-j DROP"],
    });
  });

  it("O- (IPv6): the same for the EUI-64 link-local address (no global IPv6 here), and DAD from ::", () => {
    const n = nicOf("web1");
    expectChain(rulesOf(h1.tables[6], chain("O-web1-0")), {
      first: [`-m mac ! --mac-source ${n.mac} -j DROP`],
      middle: ["-s ::/128 -p ipv6-icmp -j RETURN", `-s ${linkLocal(n.mac.toString())}/128 -g ${chain("E-web1-0")}`],
      last: ["-j DROP"],
    });
  });

  it("E- is stateful and returns everything when egress is open", () => {
    expectChain(rulesOf(h2.tables[4], chain("E-db1-0")), { first: STATE_OUT, middle: [], last: ["-j RETURN"] });
    expectChain(rulesOf(h2.tables[6], chain("E-db1-0")), {
      first: STATE_OUT, middle: [133, 135, 136, 143].map((t) => `-p ipv6-icmp --icmpv6-type ${t} -j RETURN`), last: ["-j RETURN"],
    });
  });

  it("I-: INVALID dropped, replies accepted, DHCP offers accepted, then the groups' rules, then DROP", () => {
    expectChain(rulesOf(h2.tables[4], chain("I-db1-0")), {
      first: STATE_IN,
      middle: [
        "-p udp --sport 67 --dport 68 -j ACCEPT",
        "-m set --match-set cn-sec-web-4 src -p tcp --dport 3306 -m comment --comment mysql from web -j ACCEPT",
        "-s 203.0.113.0/24 -p tcp --dport 22 -m comment --comment ssh from the admin net -j ACCEPT",
      ],
      last: ["-j DROP"],
    });
    expectChain(rulesOf(h2.tables[6], chain("I-db1-0")), {
      first: STATE_IN,
      middle: [
        ...[130, 134, 135, 136].map((t) => `-p ipv6-icmp --icmpv6-type ${t} -j ACCEPT`),
        "-m set --match-set cn-sec-web-6 src -p tcp --dport 3306 -m comment --comment mysql from web -j ACCEPT",
      ],
      last: ["-j DROP"],
    });
  });

  it("the group peer's set holds its members' addresses (filled by the stage's ipset restore)", () => {
    expect(h2.world.sets!.get("cn-sec-web-4")).toEqual(["10.20.0.11", "10.20.0.12"]);
    expect(h2.world.sets!.get("cn-sec-web-6")).toEqual([]);
  });

  it("applied over sets that already hold those members, the stage leaves them alone; a stale set is rebuilt", () => {
    const apply = stages.find((s) => s.id === "firewall/h2")!.apply;
    const live = (web4: string[], maxelem = 1024): LiveSets => new Map([
      ["cn-sec-web-4", { type: `hash:ip family inet maxelem ${maxelem}`, members: web4 }],
      ["cn-sec-web-6", { type: "hash:ip family inet6 maxelem 1024", members: [] }],
    ]);
    // Same members in another order: the very objects stay (nothing was destroyed, created or swapped).
    const before = live(["10.20.0.12", "10.20.0.11"]);
    const kept = [...before.values()];
    const after = runIpset(apply, before);
    expect([...after.values()]).toEqual(kept);
    expect(after.get("cn-sec-web-4")).toBe(kept[0]);
    // A member too many, or the wrong maxelem: rebuilt to exactly the group's members.
    expect(runIpset(apply, live(["10.20.0.11", "10.20.0.12", "10.20.0.99"])).get("cn-sec-web-4")).toEqual({ type: "hash:ip family inet maxelem 1024", members: ["10.20.0.11", "10.20.0.12"] });
    expect(runIpset(apply, live(["10.20.0.11", "10.20.0.12"], 64)).get("cn-sec-web-4")).toEqual({ type: "hash:ip family inet maxelem 1024", members: ["10.20.0.11", "10.20.0.12"] });
  });

  describe("traced packets", () => {
    it("web1 -> db1:3306 is allowed (h1 lets it out, h2's I-db1-0 accepts it from web's set)", () => {
      // h1's egress lets it out (and the host guard accepts it on the bridge), h2's ingress accepts it.
      expect(fates(between("web1", "db1", { dport: 3306 }))).toEqual(["ACCEPT", "ACCEPT"]);
    });

    it("web1 -> db1:22 is dropped on h2", () => {
      expect(fates(between("web1", "db1", { dport: 22 }))).toEqual(["ACCEPT", "DROP"]);
    });

    it("web2 -> db1 on the same bridge: 3306 accepted, 22 and 8080 dropped", () => {
      expect(fates(between("web2", "db1", { dport: 3306 }))).toEqual(["ACCEPT"]);
      expect(fates(between("web2", "db1", { dport: 22 }))).toEqual(["DROP"]);
      expect(fates(between("web2", "db1", { dport: 8080 }))).toEqual(["DROP"]);
    });

    it("db1 -> web1: 8080 (open to all) accepted, 3306 dropped", () => {
      expect(passes(between("db1", "web1", { dport: 8080 }))).toBe(true);
      expect(passes(between("db1", "web1", { dport: 3306 }))).toBe(false);
    });

    it("admin 203.0.113.10 -> web1:22 is allowed, through the router on h1", () => {
      expect(fates(fromOutside("203.0.113.10", "web1", { dport: 22 }))).toEqual(["ACCEPT", "ACCEPT"]);
      expect(passes(fromOutside("203.0.113.10", "db1", { dport: 22 }))).toBe(true);
    });

    it("outsider -> web1:22 is dropped at web1's port; outsider -> web1:8080 is allowed", () => {
      const outsider = lab.externals.find((e) => e.name === "outsider")!.address.toString();
      expect(fates(fromOutside(outsider, "web1", { dport: 22 }))).toEqual(["ACCEPT", "DROP"]);
      expect(passes(fromOutside(outsider, "web1", { dport: 8080 }))).toBe(true);
      expect(passes(fromOutside(outsider, "db1", { dport: 3306 }))).toBe(false);
      expect(passes(fromOutside(outsider, "db1", { dport: 22 }))).toBe(false);
    });

    it("a spoofed source from web1's port is dropped there: another guest's address, a foreign one, or the wrong MAC", () => {
      for (const spoof of [{ src: "10.20.0.12" }, { src: "10.20.0.99" }, { src: "203.0.113.10" }, { srcMac: "52:54:00:12:34:56" }]) {
        expect(fates(between("web1", "db1", { dport: 3306, ...spoof }))[0]).toBe("DROP");
      }
    });

    it("a spoofed source from db1's port that would pass db1's ingress as a web member is dropped on the way out", () => {
      // web2 and db1 share h2's bridge: db1 claiming web2's address would match cn-sec-web-4 at I-db1-0 otherwise.
      expect(fates(between("db1", "web2", { dport: 8080, src: "10.20.0.12" }))).toEqual(["DROP"]);
    });

    it("the established reply db1:3306 -> web1 is accepted, the same packet as NEW is not", () => {
      const reply = (ctstate: string[]) => between("db1", "web1", { sport: 3306, dport: 40000, ctstate });
      expect(fates(reply(["ESTABLISHED"]))).toEqual(["ACCEPT", "ACCEPT"]);
      expect(fates(reply(["RELATED"]))).toEqual(["ACCEPT", "ACCEPT"]);
      expect(fates(reply(["NEW"]))).toEqual(["ACCEPT", "DROP"]);
    });

    it("INVALID is dropped both on the way out and on the way in", () => {
      expect(fates(between("web1", "db1", { dport: 3306, ctstate: ["INVALID"] }))).toEqual(["DROP", "DROP"]);
    });

    it("a DHCP discover leaves web1's port; a DHCP offer reaches it", () => {
      const discover: Packet = { src: "0.0.0.0", dst: "255.255.255.255", proto: "udp", sport: 68, dport: 67, in: app.bridge, out: app.bridge, physIn: nicOf("web1").hostDev, physOut: overlay, srcMac: nicOf("web1").mac.toString() };
      expect(forward(h1, 4, discover)).toBe("ACCEPT");
      expect(forward(h1, 4, { ...discover, srcMac: "52:54:00:12:34:56" })).toBe("DROP");
      expect(forward(h1, 4, { ...discover, proto: "tcp" })).toBe("DROP");
      const offer: Packet = { src: "10.20.0.1", dst: "255.255.255.255", proto: "udp", sport: 67, dport: 68, in: app.bridge, out: app.bridge, physIn: router.bridgePort, physOut: nicOf("web1").hostDev };
      expect(forward(h1, 4, offer)).toBe("ACCEPT");
    });

    it("frames between ports no group guards are not touched by SG (the router's own traffic on h1): the host guard accepts them on their bridge", () => {
      const frame: Packet = { src: "10.20.0.1", dst: "10.20.0.50", proto: "tcp", dport: 22, in: app.bridge, out: app.bridge, physIn: router.bridgePort, physOut: overlay };
      expect(verdict(h1.tables[4], "filter", "CN-sec-SG", frame, h1.world).target).toBe("END");
      expect(forward(h1, 4, frame)).toBe("ACCEPT");
    });
  });
});

// ---- a dual-stack lab with restricted egress, built from specs -----------------------------------

const sg = (name: string, parts: Partial<SecurityGroupSpec> = {}): SecurityGroupSpec => ({ name, path: pathOf(name), ingress: [], egress: [], ...parts });
const peerOf = (p: IPeer | PeerSpec): PeerSpec => ("peerSpec" in p ? p.peerSpec : p);
const r = (owner: string, peer: IPeer | PeerSpec, port: Port, description?: string): SecurityRuleSpec => ({ path: pathOf(owner), peer: peerOf(peer), port: port.spec, description });
const groupPeer = (name: string): PeerSpec => ({ kind: "group", group: name, lab: LAB_PATH });

/**
 * app: 10.20.0.0/24 + fd00:20::/64, isolated (no gateway, so only security group rules).
 * web: egress restricted to tcp/3306 to db, udp/53 to 10.20.0.53, ICMPv6 echo anywhere; ingress tcp/80.
 * cache: open egress. db: tcp/3306 from web. w1 (web, h1), w2 (web + cache, h2), d1 (db, h2), free (h1).
 */
function dualStack(dbDescription = "mysql"): LabSpec {
  const nic = (last: number) => ({ segment: "app", address: `10.20.0.${last}`, address6: `fd00:20::${last}` });
  return emulatedLab({
    hosts: [host("h1"), host("h2")],
    segments: [segment("app", "10.20.0.0/24", { ipv6Cidr: "fd00:20::/64" })],
    guests: [
      guest("w1", "h1", [nic(11)], { securityGroups: ["web"] }),
      guest("w2", "h2", [nic(12)], { securityGroups: ["web", "cache"] }),
      guest("d1", "h2", [nic(21)], { securityGroups: ["db"] }),
      guest("free", "h1", [nic(99)]),
    ],
    securityGroups: [
      sg("web", {
        ingress: [r("web", Peer.anyIpv4(), Port.tcp(80)), r("web", Peer.anyIpv6(), Port.tcp(80))],
        egress: [r("web", groupPeer("db"), Port.tcp(3306)), r("web", Peer.ipv4("10.20.0.53/32"), Port.udp(53)), r("web", Peer.anyIpv6(), Port.icmpv6Type(128))],
      }),
      sg("cache"),
      sg("db", { ingress: [r("db", groupPeer("web"), Port.tcp(3306), dbDescription)] }),
    ],
  });
}

describe("restricted egress, IPv6 and descriptions (dual-stack spec lab)", () => {
  const lab = resolveOk(dualStack());
  const stages = renderLab(lab);
  const h1 = shipped(stages, "h1");
  const h2 = shipped(stages, "h2");
  const nic = (g: string) => lab.guests.find((x) => x.name === g)!.nics[0];
  const chain = (purpose: string) => chainName("lab", purpose);
  const overlay = lab.segments[0].overlayDev!;
  const bridge = lab.segments[0].bridge;
  const out = (g: string, p: Partial<Packet>): Packet => ({
    src: nic(g).address.toString(), dst: "10.20.0.200", proto: "tcp", sport: 40000, srcMac: nic(g).mac.toString(), in: bridge, out: bridge, physIn: nic(g).hostDev, physOut: overlay, ...p,
  });
  const out6 = (g: string, p: Partial<Packet>): Packet => out(g, { src: nic(g).address6!.toString(), dst: "fd00:20::200", ...p });

  it("the guest without groups gets no chains; h1 only has w1's", () => {
    const names = [...h1.tables[4].get("filter")!.keys()];
    expect(names.filter((c) => c.includes("free"))).toEqual([]);
    expect(names).toEqual(["CN-lab-SG", chain("O-w1-0"), chain("E-w1-0"), chain("I-w1-0"), "CN-lab-FWD", "CN-lab-IN", "FORWARD"]);
  });

  it("restricted E- returns only on DHCP renewals and the egress rules (group peer as `dst`), then drops", () => {
    expectChain(rulesOf(h1.tables[4], chain("E-w1-0")), {
      first: STATE_OUT,
      // DHCP renewals (unicast to the server) keep the lease of a guest with restricted egress.
      middle: ["-p udp --sport 68 --dport 67 -j RETURN", "-m set --match-set cn-lab-db-4 dst -p tcp --dport 3306 -j RETURN", "-d 10.20.0.53/32 -p udp --dport 53 -j RETURN"],
      last: ["-j DROP"],
    });
    expectChain(rulesOf(h1.tables[6], chain("E-w1-0")), {
      first: STATE_OUT,
      middle: [
        ...[133, 135, 136, 143].map((t) => `-p ipv6-icmp --icmpv6-type ${t} -j RETURN`),
        "-m set --match-set cn-lab-db-6 dst -p tcp --dport 3306 -j RETURN",
        "-p ipv6-icmp --icmpv6-type 128 -j RETURN",
      ],
      last: ["-j DROP"],
    });
  });

  it("restricted egress, traced: allowed destinations pass, others are dropped, replies always leave", () => {
    expect(forward(h1, 4, out("w1", { dst: "10.20.0.21", dport: 3306 }))).toBe("ACCEPT");
    expect(forward(h1, 4, out("w1", { dst: "10.20.0.21", dport: 22 }))).toBe("DROP");
    expect(forward(h1, 4, out("w1", { dst: "10.20.0.200", dport: 3306 }))).toBe("DROP");
    expect(forward(h1, 4, out("w1", { dst: "10.20.0.53", proto: "udp", dport: 53 }))).toBe("ACCEPT");
    expect(forward(h1, 4, out("w1", { dst: "10.20.0.54", proto: "udp", dport: 53 }))).toBe("DROP");
    expect(forward(h1, 4, out("w1", { sport: 80, dport: 40000, ctstate: ["ESTABLISHED"] }))).toBe("ACCEPT");
    expect(forward(h1, 4, out("w1", { sport: 80, dport: 40000 }))).toBe("DROP");
    expect(forward(h1, 6, out6("w1", { dst: "fd00:20::21", dport: 3306 }))).toBe("ACCEPT");
    expect(forward(h1, 6, out6("w1", { dst: "fd00:20::21", dport: 22 }))).toBe("DROP");
    expect(forward(h1, 6, out6("w1", { dst: "2001:db8::1", proto: "ipv6-icmp", dport: undefined, icmpType: 128, icmpCode: 0 }))).toBe("ACCEPT");
    expect(forward(h1, 6, out6("w1", { dst: "2001:db8::1", proto: "ipv6-icmp", dport: undefined, icmpType: 129, icmpCode: 0 }))).toBe("DROP");
  });

  it("a NIC in a restricted and an open group has open egress (rules are a union)", () => {
    expectChain(rulesOf(h2.tables[4], chain("E-w2-0")), { first: STATE_OUT, middle: [], last: ["-j RETURN"] });
    expect(forward(h2, 4, { ...out("w2", { dst: "10.20.0.200", dport: 22 }), physOut: overlay })).toBe("ACCEPT");
  });

  it("O- (IPv6) lets the link-local and the global address through to E-, DAD from :: returns, anything else is dropped", () => {
    const ll = linkLocal(nic("w1").mac.toString());
    expectChain(rulesOf(h1.tables[6], chain("O-w1-0")), {
      first: [`-m mac ! --mac-source ${nic("w1").mac} -j DROP`],
      middle: ["-s ::/128 -p ipv6-icmp -j RETURN", `-s ${ll}/128 -g ${chain("E-w1-0")}`, `-s fd00:20::11/128 -g ${chain("E-w1-0")}`],
      last: ["-j DROP"],
    });
    const ns = { proto: "ipv6-icmp" as const, dport: undefined, icmpType: 135, icmpCode: 0 };
    expect(forward(h1, 6, out6("w1", { src: ll, dst: "ff02::1:ff00:21", ...ns }))).toBe("ACCEPT");
    expect(forward(h1, 6, out6("w1", { src: "::", dst: "ff02::1:ff00:11", ...ns }))).toBe("ACCEPT");
    expect(forward(h1, 6, out6("w1", { src: "::", dport: 3306 }))).toBe("DROP");
    expect(forward(h1, 6, out6("w1", { src: "fd00:20::12", dst: "fd00:20::21", dport: 3306 }))).toBe("DROP");
    expect(forward(h1, 6, out6("w1", { src: "fe80::1", dst: "fd00:20::21", dport: 3306 }))).toBe("DROP");
    expect(forward(h1, 6, out6("w1", { dst: "fd00:20::21", dport: 3306, srcMac: "52:54:00:12:34:56" }))).toBe("DROP");
  });

  it("I- (IPv6) accepts neighbour discovery and the group rule from web's IPv6 set; echo requests are not allowed", () => {
    const into = (p: Partial<Packet>): Packet => ({ src: "fd00:20::11", dst: "fd00:20::21", proto: "tcp", sport: 40000, dport: 3306, in: bridge, out: bridge, physIn: overlay, physOut: nic("d1").hostDev, ...p });
    expect(forward(h2, 6, into({}))).toBe("ACCEPT");
    expect(forward(h2, 6, into({ src: "fd00:20::99" }))).toBe("DROP");
    expect(forward(h2, 6, into({ proto: "ipv6-icmp", dport: undefined, icmpType: 135, icmpCode: 0 }))).toBe("ACCEPT");
    expect(forward(h2, 6, into({ proto: "ipv6-icmp", dport: undefined, icmpType: 128, icmpCode: 0 }))).toBe("DROP");
    expect(h2.world.sets!.get("cn-lab-web-6")).toEqual(["fd00:20::11", "fd00:20::12"]);
  });

  it("a description that reads like options stays ONE comment argument: it adds no match and no target", () => {
    const tricky = "--comment x -j ACCEPT";
    const l = resolveOk(dualStack(tricky));
    const s = shipped(renderLab(l), "h2");
    const rule = s.tables[4].get("filter")!.get(chain("I-d1-0"))!.find((w) => w.includes("--comment"))!;
    expect(rule).toEqual(["-m", "set", "--match-set", "cn-lab-web-4", "src", "-p", "tcp", "--dport", "3306", "-m", "comment", "--comment", tricky, "-j", "ACCEPT"]);
    const into = (p: Partial<Packet>): Packet => ({ src: "10.20.0.11", dst: "10.20.0.21", proto: "tcp", sport: 40000, dport: 3306, in: bridge, out: bridge, physIn: overlay, physOut: l.guests[2].nics[0].hostDev, ...p });
    expect(forward(s, 4, into({}))).toBe("ACCEPT");
    expect(forward(s, 4, into({ dport: 22 }))).toBe("DROP");
    expect(forward(s, 4, into({ src: "10.20.0.99" }))).toBe("DROP");
  });

  it.each([
    ["255 characters", "x".repeat(255)],
    ["every allowed punctuation mark", "a; b = c + d @ (e) # 100% -j ACCEPT, x:y/z_w.v"],
    ["a target", "-j ACCEPT"],
    ["spaces only", "  "],
  ])("a description of %s is one comment word as iptables-restore splits it", (_, d) => {
    const s = shipped(renderLab(resolveOk(dualStack(d))), "h2");
    const rule = s.tables[4].get("filter")!.get(chain("I-d1-0"))!.find((w) => w.includes("--comment"))!;
    const at = rule.indexOf("--comment");
    expect(rule[at + 1]).toBe(d);
    expect(rule.slice(at + 2)).toEqual(["-j", "ACCEPT"]);
    expect(rule.filter((w) => w === "-j" || w === "-g")).toHaveLength(1);
  });
});

// ---- every kind of port ------------------------------------------------------------------------

describe("every kind of port and peer renders to a match that judges packets right", () => {
  const spec = emulatedLab({
    hosts: [host("h1")],
    segments: [segment("app", "10.20.0.0/24", { ipv6Cidr: "fd00:20::/64" })],
    guests: [guest("t1", "h1", [{ segment: "app", address: "10.20.0.11", address6: "fd00:20::11" }], { securityGroups: ["t"] })],
    securityGroups: [sg("t", {
      ingress: [
        r("t", Peer.ipv4("198.51.100.0/24"), Port.allTraffic()),
        r("t", Peer.anyIpv4(), Port.icmpTypeAndCode(3, 4)),
        r("t", Peer.anyIpv4(), Port.icmpType(8)),
        r("t", Peer.anyIpv4(), Port.udpRange(5000, 5010)),
        r("t", Peer.anyIpv6(), Port.allIcmpv6()),
        r("t", Peer.ipv6("2001:db8::/32"), Port.tcp(443)),
      ],
    })],
  });
  const l = resolveOk(spec);
  const s = shipped(renderLab(l), "h1");
  const dev = l.guests[0].nics[0].hostDev;
  const into = (family: 4 | 6, p: Partial<Packet>) =>
    forward(s, family, { src: family === 4 ? "192.0.2.7" : "2001:db9::7", dst: family === 4 ? "10.20.0.11" : "fd00:20::11", proto: "tcp", sport: 40000, in: l.segments[0].bridge, out: l.segments[0].bridge, physIn: "uplink-port", physOut: dev, ...p });
  const icmp = (type: number, code: number) => ({ proto: "icmp" as const, dport: undefined, icmpType: type, icmpCode: code });

  it("all traffic from a CIDR: any protocol from inside it, nothing from outside", () => {
    expect(into(4, { src: "198.51.100.7", dport: 1234 })).toBe("ACCEPT");
    expect(into(4, { src: "198.51.100.7", proto: "udp", dport: 9 })).toBe("ACCEPT");
    expect(into(4, { src: "198.51.100.7", ...icmp(13, 0) })).toBe("ACCEPT");
    expect(into(4, { src: "198.51.101.7", dport: 1234 })).toBe("DROP");
  });

  it("ICMP by type and code, or by type with any code", () => {
    expect(into(4, icmp(3, 4))).toBe("ACCEPT");
    expect(into(4, icmp(3, 3))).toBe("DROP");
    expect(into(4, icmp(8, 0))).toBe("ACCEPT");
    expect(into(4, icmp(8, 5))).toBe("ACCEPT");
    expect(into(4, icmp(13, 0))).toBe("DROP");
  });

  it("a udp range is inclusive at both ends and udp only", () => {
    expect(into(4, { proto: "udp", dport: 5000 })).toBe("ACCEPT");
    expect(into(4, { proto: "udp", dport: 5010 })).toBe("ACCEPT");
    expect(into(4, { proto: "udp", dport: 4999 })).toBe("DROP");
    expect(into(4, { proto: "udp", dport: 5011 })).toBe("DROP");
    expect(into(4, { proto: "tcp", dport: 5005 })).toBe("DROP");
  });

  it("IPv6: all ICMPv6 from anywhere, tcp/443 only from 2001:db8::/32; IPv4 rules do not leak into IPv6", () => {
    expect(into(6, { proto: "ipv6-icmp", dport: undefined, icmpType: 1, icmpCode: 0 })).toBe("ACCEPT");
    expect(into(6, { src: "2001:db8::5", dport: 443 })).toBe("ACCEPT");
    expect(into(6, { dport: 443 })).toBe("DROP");
    expect(into(6, { proto: "udp", dport: 5000 })).toBe("DROP");
    expect(rulesOf(s.tables[6], chainName("lab", "I-t1-0")).filter((x) => x.includes("198.51.100.0/24") || x.includes("-p icmp "))).toEqual([]);
  });
});

// ---- rules do not grow with a peer group's members ----------------------------------------------

describe("a group peer is one rule per group rule, whatever its members", () => {
  /** db1 on h1 takes tcp/3306 from web; web has `n` members, all on h2. */
  function scaled(n: number): LabSpec {
    const members: GuestSpec[] = Array.from({ length: n }, (_, i) => guest(`w${i}`, "h2", [{ segment: "app" }], { securityGroups: ["web"] }));
    return emulatedLab({
      hosts: [host("h1"), host("h2")],
      segments: [segment("app", "10.0.0.0/20")],
      guests: [guest("db1", "h1", [{ segment: "app", address: "10.0.15.200" }], { securityGroups: ["db"] }), ...members],
      securityGroups: [sg("web"), sg("db", { ingress: [r("db", groupPeer("web"), Port.tcp(3306)), r("db", groupPeer("web"), Port.icmpType(8))] })],
    });
  }
  const small = shipped(renderLab(resolveOk(scaled(10))), "h1");
  const bigLab = resolveOk(scaled(1000));
  const big = shipped(renderLab(bigLab), "h1");

  it("h1's rule count is the same with 10 and with 1,000 members", () => {
    expect(ruleCount(small.tables[4])).toBe(ruleCount(big.tables[4]));
    expect(ruleCount(small.tables[6])).toBe(ruleCount(big.tables[6]));
    expect(rulesOf(big.tables[4], chainName("lab", "I-db1-0")).filter((x) => x.includes("--match-set"))).toEqual([
      "-m set --match-set cn-lab-web-4 src -p tcp --dport 3306 -j ACCEPT",
      "-m set --match-set cn-lab-web-4 src -p icmp --icmp-type 8 -j ACCEPT",
    ]);
  }, 60_000);

  it("while the set holds every member (one `add` per member) and a member's packet is accepted", () => {
    expect(small.world.sets!.get("cn-lab-web-4")).toHaveLength(10);
    expect(big.world.sets!.get("cn-lab-web-4")).toHaveLength(1000);
    const into: Packet = { src: big.world.sets!.get("cn-lab-web-4")![999], dst: "10.0.15.200", proto: "tcp", sport: 40000, dport: 3306, in: bigLab.segments[0].bridge, out: bigLab.segments[0].bridge, physIn: bigLab.segments[0].overlayDev!, physOut: bigLab.guests[0].nics[0].hostDev };
    expect(forward(big, 4, into)).toBe("ACCEPT");
    expect(forward(big, 4, { ...into, src: "10.0.15.201" })).toBe("DROP");
  }, 60_000);
});

// ---- the EUI-64 link-local address ---------------------------------------------------------------

describe("linkLocal (EUI-64, RFC 4291 appendix A)", () => {
  /** Reference: fe80::/64 + the MAC with the universal/local bit flipped and ff:fe in the middle. */
  function reference(mac: string): bigint {
    const b = mac.split(":").map((x) => parseInt(x, 16));
    const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
    return bytes.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  }
  const unicastMac = fc.tuple(fc.integer({ min: 0, max: 127 }).map((x) => x * 2), ...Array.from({ length: 5 }, () => fc.integer({ min: 0, max: 255 })))
    .map((bytes) => bytes.map((x) => x.toString(16).padStart(2, "0")).join(":"));

  it("examples: the kernel's address for 52:54:00:00:ab:11 and for a MAC with zero words", () => {
    expect(linkLocal("52:54:00:00:ab:11")).toBe("fe80::5054:ff:fe00:ab11");
    expect(IpAddress.parse(linkLocal("02:00:00:00:00:00")).toString()).toBe("fe80::ff:fe00:0");
  });

  it("equals the reference for every unicast MAC, and is a valid address iptables can parse", () => {
    fc.assert(fc.property(unicastMac, (mac) => {
      const text = linkLocal(MacAddress.parse(mac).toString());
      const ip = IpAddress.parse(text);
      expect(ip.family).toBe(6);
      expect(ip.toBigInt()).toBe(reference(mac));
    }), { numRuns: 2000 });
  });
});

/** The script without its function definitions (one-liners, and blocks up to a `}` at column 0). */
function withoutFunctions(script: string): string {
  return script.replace(/^[a-z_][a-z0-9_]*\(\) \{(?:[^\n]*\}$|[\s\S]*?\n\}$)\n?/gm, "");
}
