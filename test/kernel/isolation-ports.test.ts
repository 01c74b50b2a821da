import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { linkLocal } from "../../lib/render/security";
import { runStage } from "../support/apply";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { startServer, stopServers } from "../support/tcp";
import * as F from "./fixtures/frames";
import { GUARDED, guardedLab } from "./fixtures/guarded-lab";

/**
 * Guarded ports drop what security groups cannot see, proven with raw frames from a guest that is
 * a member of a permissive group (fixtures/guarded-lab.ts): priority-tagged (VID 0), VLAN-tagged and
 * 802.1ad frames (a SYN to a closed port, UDP, an ARP spoof), foreign ethertypes, neighbour
 * advertisements for another guest's address or with another MAC, router advertisements and
 * redirects, DHCP server replies, IPv6 from a link-local that is not the guest's, and another
 * node's address on a frame of that node's established flow; and the guest's link-local is exactly
 * the lab's EUI-64 one, also after someone added another.
 *
 * Each attack is sent 20 times and must arrive 0 times, while in the same test: the attacker's own
 * host-side port counts the frames (they did leave the guest); a legitimate frame from the attacker
 * through the same bridge arrives (the capture and the attacker's port work); and the identical
 * attack frame injected straight onto the target's own veth (past the bridge and its guard, as a
 * wire would deliver it) arrives and does what the attack wants (a SYN-ACK, a poisoned neighbour
 * entry, a default route): so the probe itself is sound and only the guard stops it.
 */
const p = uniquePrefix("i");
const resolved = guardedLab(p).resolve();
if (!resolved.lab) throw new Error(formatIssues(resolved.issues));
const lab: ResolvedLab = resolved.lab;
const stages = renderLab(lab);

type Name = keyof typeof GUARDED;
const NAMES = Object.keys(GUARDED) as Name[];
const ns = (node: string) => `${p}-${node}`;
const nicOf = (g: Name) => lab.guests.find((x) => x.name === g)!.nics[0];
const MAC = Object.fromEntries(NAMES.map((g) => [g, nicOf(g).mac.toString()])) as Record<Name, string>;
const LL = Object.fromEntries(NAMES.map((g) => [g, linkLocal(MAC[g])])) as Record<Name, string>;
const V4 = Object.fromEntries(NAMES.map((g) => [g, GUARDED[g].v4])) as Record<Name, string>;
const V6 = Object.fromEntries(NAMES.map((g) => [g, GUARDED[g].v6])) as Record<Name, string>;

/** A guest's NIC, where it sends from and receives. */
const guest = (g: Name): F.Endpoint => ({ ns: ns(g), dev: "eth0" });
/** The host end of a guest's NIC: a capture there sees what the guest sent; frames sent there reach the guest straight, past the bridge. */
const hostEnd = (g: Name): F.Endpoint => ({ ns: ns("h1"), dev: nicOf(g).hostDev });

const N = 20;
const ENOUGH = 18;
const times = (n: number, f: (i: number) => Buffer) => Array.from({ length: n }, (_, i) => f(i));
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** Polls `f` until it holds or `ms` pass; returns its last value. */
function eventually(f: () => boolean, ms = 3000): boolean {
  const deadline = Date.now() + ms;
  for (;;) {
    if (f()) return true;
    if (Date.now() > deadline) return false;
    sleep(50);
  }
}

/** The MAC a guest's neighbour table holds for `address` ("" if none). */
function lladdr(g: Name, address: string): string {
  return /lladdr (\S+)/.exec(run("ip", ["-n", ns(g), "neigh", "show", "to", address, "dev", "eth0"]))?.[1] ?? "";
}

/** Counting rules (no target) in a guest's raw table; returns a reader of their packet counts by name. */
function counters(g: Name, chain: "PREROUTING" | "OUTPUT", rules: Record<string, string[]>): () => Record<string, number> {
  for (const [name, match] of Object.entries(rules)) {
    run("ip", ["netns", "exec", ns(g), "iptables", "-t", "raw", "-A", chain, ...match, "-m", "comment", "--comment", name]);
  }
  return () => {
    const out: Record<string, number> = {};
    for (const line of run("ip", ["netns", "exec", ns(g), "iptables-save", "-c", "-t", "raw"]).split("\n")) {
      const m = /^\[(\d+):\d+\] -A \S+ .*--comment "?([\w-]+)"?/.exec(line);
      if (m) out[m[2]] = Number(m[1]);
    }
    return out;
  };
}
const flushCounters = (g: Name) => ["PREROUTING", "OUTPUT"].forEach((c) => run("ip", ["netns", "exec", ns(g), "iptables", "-t", "raw", "-F", c]));

/** The four tags: a priority tag, VLAN 100, a service tag 100, and a priority tag in a priority service tag. */
const TAGS: Record<string, F.Tag[]> = {
  prio: [F.PRIORITY_TAG],
  vlan100: [{ tpid: 0x8100, vid: 100 }],
  ad100: [{ tpid: 0x88a8, vid: 100 }],
  qinq0: [{ tpid: 0x88a8, vid: 0 }, F.PRIORITY_TAG],
};
/** What of an IPv4 / IPv6 packet survives to the receiver byte for byte: the transport part. */
const l4of4 = (packet: Buffer) => packet.subarray(20);
const l4of6 = (packet: Buffer) => packet.subarray(40);

describe("guarded ports drop what security groups cannot see (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    for (const s of stages) {
      const x = runStage(lab, s, "apply");
      if (x.status !== 0) throw new Error(`apply of ${s.id} failed:\n${x.output}`);
    }
    await startServer(ns("victim"), 9999, "victim");
    await startServer(ns("victim"), 8080, "victim");
  }, 60_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("a: a priority-tagged SYN to a port the group does not open never reaches the victim's listener", () => {
    const syn = (port: number, sport: number, seq: number, tags: F.Tag[]) =>
      times(N, (i) => F.ether(MAC.victim, MAC.attacker, F.ETH_IP, F.tcpSyn4(V4.attacker, V4.victim, sport + i, port, seq), tags));
    const sig = (packet: Buffer) => l4of4(packet).subarray(2, 8); // destination port and sequence number
    const synAcks = (sport: number, dport: number) => ["-p", "tcp", "--sport", String(sport), "--dport", `${dport}:${dport + N - 1}`, "--tcp-flags", "SYN,ACK", "SYN,ACK"];
    const answered = counters("victim", "OUTPUT", { tagged: synAcks(9999, 41000), open: synAcks(8080, 42000), direct: synAcks(9999, 43000) });
    try {
      const tagged = syn(9999, 41000, 0x434e0a01, TAGS.prio);
      const open = syn(8080, 42000, 0x434e0a02, []);
      const direct = syn(9999, 43000, 0x434e0a03, TAGS.prio);
      const c = F.exchange({
        captures: { victim: guest("victim"), sent: hostEnd("attacker") },
        sends: [{ from: guest("attacker"), frames: tagged }, { from: guest("attacker"), frames: open }, { from: hostEnd("victim"), frames: direct }],
        signatures: { tagged: sig(tagged[0].subarray(18)), open: sig(open[0].subarray(14)), direct: sig(direct[0].subarray(18)) },
        until: [{ capture: "victim", signature: "open", atLeast: N }, { capture: "victim", signature: "direct", atLeast: N }],
      });
      expect(c.sent.tagged).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.victim.tagged).toBe(0);
      // Controls: untagged to the open port through the bridge, and the tagged SYN on the victim's own wire, arrive.
      expect(c.victim.open).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.victim.direct).toBeGreaterThanOrEqual(ENOUGH);
      // The listener's view: it answered the controls (the priority tag taken as untagged), never the attack.
      const n = answered();
      expect(n.tagged).toBe(0);
      expect(n.open).toBeGreaterThanOrEqual(ENOUGH);
      expect(n.direct).toBeGreaterThanOrEqual(ENOUGH);
    } finally {
      flushCounters("victim");
    }
  }, 20_000);

  // What reaches a guarded port is guarded too: a guest in no group (or any unguarded port, the
  // tunnel's included) would otherwise pass a guarded guest's ingress rules with a priority tag.
  // That the victim takes such a frame when it does reach it is test a's direct control.
  test("a2: a priority-tagged SYN from an unguarded port to a closed port of a guarded guest is dropped too", () => {
    const frames = times(N, (i) => F.ether(MAC.victim, MAC.plain, F.ETH_IP, F.tcpSyn4(V4.plain, V4.victim, 44000 + i, 9999, 0x434e0a04), TAGS.prio));
    const c = F.exchange({
      captures: { victim: guest("victim"), sent: hostEnd("plain") },
      sends: [{ from: guest("plain"), frames }],
      signatures: { tagged: l4of4(frames[0].subarray(18)).subarray(2, 8) },
      until: [{ capture: "sent", signature: "tagged", atLeast: N }],
    });
    expect(c.sent.tagged).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.victim.tagged).toBe(0);
  }, 20_000);

  test("b: UDP in a priority tag, VLAN 100, an 802.1ad tag or a double priority tag is dropped; untagged UDP to an open port arrives", () => {
    const udp = (name: string, sport: number, dport: number, tags: F.Tag[]) =>
      F.ether(MAC.victim, MAC.attacker, F.ETH_IP, F.udp4(V4.attacker, V4.victim, sport, dport, F.marker(name)), tags);
    const stack = counters("victim", "PREROUTING", { bridged: ["-p", "udp", "--sport", "40000", "--dport", "9998"], direct: ["-p", "udp", "--sport", "40001", "--dport", "9998"] });
    try {
      const kinds = Object.keys(TAGS);
      const c = F.exchange({
        captures: { victim: guest("victim"), sent: hostEnd("attacker") },
        sends: [
          { from: guest("attacker"), frames: kinds.map((k) => udp(k, 40000, 9998, TAGS[k])), count: N },
          { from: guest("attacker"), frames: [udp("open", 40000, 5000, [])], count: N },
          { from: hostEnd("victim"), frames: kinds.map((k) => udp(`${k}-direct`, 40001, 9998, TAGS[k])), count: N },
        ],
        signatures: Object.fromEntries(["open", ...kinds, ...kinds.map((k) => `${k}-direct`)].map((k) => [k, F.marker(k)])),
        until: [{ capture: "victim", signature: "open", atLeast: N }, ...kinds.map((k) => ({ capture: "victim", signature: `${k}-direct`, atLeast: N }))],
      });
      for (const k of kinds) {
        expect({ tag: k, sent: c.sent[k] >= ENOUGH, arrived: c.victim[k] }).toEqual({ tag: k, sent: true, arrived: 0 });
        // Control: the same frame on the victim's own wire reaches its NIC.
        expect({ tag: k, direct: c.victim[`${k}-direct`] >= ENOUGH }).toEqual({ tag: k, direct: true });
      }
      expect(c.victim.open).toBeGreaterThanOrEqual(ENOUGH);
      // The victim's IP stack took the priority-tagged ones on its wire as untagged (VLAN 100 ones are for another host), none from the bridge.
      const n = stack();
      expect(n.bridged).toBe(0);
      expect(n.direct).toBeGreaterThanOrEqual(2 * ENOUGH);
      expect(n.direct).toBeLessThanOrEqual(2 * N);
    } finally {
      flushCounters("victim");
    }
  }, 20_000);

  test("c: an ARP request claiming the third guest's address, tagged or not, leaves the victim's neighbour table alone; the attacker's own ARP updates it", () => {
    expect(nsExec(ns("victim"), "ping", ["-c", "1", "-W", "2", V4.third]).status).toBe(0);
    expect(lladdr("victim", V4.third)).toBe(MAC.third);
    run("ip", ["-n", ns("victim"), "neigh", "replace", V4.attacker, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale"]);
    try {
      // "Who has the victim's address? Tell the third's, at the attacker's MAC": the victim would re-point the third's entry.
      const request = (spa: string, tha: string) => F.arp(1, MAC.attacker, spa, tha, V4.victim);
      const tagged = request(V4.third, "00:00:00:00:00:01");
      const untagged = request(V4.third, "00:00:00:00:00:02");
      const own = request(V4.attacker, "00:00:00:00:00:03");
      const frame = (body: Buffer, tags: F.Tag[] = []) => F.ether(MAC.victim, MAC.attacker, F.ETH_ARP, body, tags);
      const c = F.exchange({
        captures: { victim: guest("victim"), sent: hostEnd("attacker") },
        sends: [{ from: guest("attacker"), frames: [frame(tagged, TAGS.prio), frame(untagged)], count: N }, { from: guest("attacker"), frames: [frame(own)], count: N }],
        signatures: { tagged, untagged, own },
        until: [{ capture: "victim", signature: "own", atLeast: N }],
      });
      expect(c.sent.tagged).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.victim.tagged).toBe(0);
      expect(c.victim.untagged).toBe(0);
      expect(lladdr("victim", V4.third)).toBe(MAC.third);
      // Control: the attacker's ARP about itself arrives and is believed.
      expect(c.victim.own).toBeGreaterThanOrEqual(ENOUGH);
      expect(lladdr("victim", V4.attacker)).toBe(MAC.attacker);

      // Control: the identical tagged spoof on the victim's own wire poisons its entry for the third guest.
      const d = F.exchange({
        captures: { victim: guest("victim") },
        sends: [{ from: hostEnd("victim"), frames: [frame(tagged, TAGS.prio)], count: N }],
        signatures: { tagged },
        until: [{ capture: "victim", signature: "tagged", atLeast: N }],
      });
      expect(d.victim.tagged).toBeGreaterThanOrEqual(ENOUGH);
      expect(eventually(() => lladdr("victim", V4.third) === MAC.attacker)).toBe(true);
    } finally {
      run("ip", ["-n", ns("victim"), "neigh", "flush", "dev", "eth0"]);
    }
  }, 20_000);

  test("d: frames of other ethertypes (0x88b5, RARP) are dropped; the attacker's IPv4 broadcast arrives", () => {
    const other = (type: number, name: string) => F.ether(F.BROADCAST, MAC.attacker, type, Buffer.concat([F.marker(name), Buffer.alloc(30)]));
    const bcast = F.ether(F.BROADCAST, MAC.attacker, F.ETH_IP, F.udp4(V4.attacker, "10.30.0.255", 40000, 5000, F.marker("bcast")));
    const c = F.exchange({
      captures: { victim: guest("victim"), third: guest("third"), sent: hostEnd("attacker") },
      sends: [
        { from: guest("attacker"), frames: [other(0x88b5, "exp"), other(0x8035, "rarp")], count: N },
        { from: guest("attacker"), frames: [bcast], count: N },
        { from: hostEnd("victim"), frames: [other(0x88b5, "exp-direct")], count: N },
      ],
      signatures: { exp: F.marker("exp"), rarp: F.marker("rarp"), bcast: F.marker("bcast"), direct: F.marker("exp-direct") },
      until: [{ capture: "victim", signature: "bcast", atLeast: N }, { capture: "third", signature: "bcast", atLeast: N }, { capture: "victim", signature: "direct", atLeast: N }],
    });
    expect(c.sent.exp).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.sent.rarp).toBeGreaterThanOrEqual(ENOUGH);
    expect([c.victim.exp, c.victim.rarp, c.third.exp, c.third.rarp]).toEqual([0, 0, 0, 0]);
    // Controls: a broadcast the group allows reaches both neighbours; the 0x88b5 frame on the victim's wire is counted.
    expect(c.victim.bcast).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.third.bcast).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.victim.direct).toBeGreaterThanOrEqual(ENOUGH);
  }, 20_000);

  test("e: a neighbour advertisement for the victim's address with the attacker's MAC leaves the third guest's cache alone; one for the attacker's own address works", () => {
    expect(nsExec(ns("third"), "ping", ["-6", "-c", "1", "-W", "2", V6.victim]).status).toBe(0);
    expect(lladdr("third", V6.victim)).toBe(MAC.victim);
    run("ip", ["-n", ns("third"), "-6", "neigh", "replace", V6.attacker, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale"]);
    try {
      const na = (target: string, mac: string) => F.neighbourAdvert(LL.attacker, V6.third, target, mac);
      const frame = (packet: Buffer) => F.ether(MAC.third, MAC.attacker, F.ETH_IP6, packet);
      const spoof = na(V6.victim, MAC.attacker);
      const foreignMac = na(V6.attacker, MAC.victim);
      const own = na(V6.attacker, MAC.attacker);
      const c = F.exchange({
        captures: { third: guest("third"), sent: hostEnd("attacker") },
        sends: [{ from: guest("attacker"), frames: [frame(spoof), frame(foreignMac)], count: N }, { from: guest("attacker"), frames: [frame(own)], count: N }],
        signatures: { spoof: l4of6(spoof), foreignMac: l4of6(foreignMac), own: l4of6(own) },
        until: [{ capture: "third", signature: "own", atLeast: N }],
      });
      expect(c.sent.spoof).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.third.spoof).toBe(0);
      expect(c.third.foreignMac).toBe(0);
      expect(lladdr("third", V6.victim)).toBe(MAC.victim);
      expect(nsExec(ns("third"), "ping", ["-6", "-c", "1", "-W", "2", V6.victim]).status).toBe(0);
      // Control: the attacker's advertisement of its own address arrives and is believed.
      expect(c.third.own).toBeGreaterThanOrEqual(ENOUGH);
      expect(lladdr("third", V6.attacker)).toBe(MAC.attacker);

      // Control: the identical spoof on the third guest's own wire poisons its entry for the victim.
      const d = F.exchange({
        captures: { third: guest("third") },
        sends: [{ from: hostEnd("third"), frames: [frame(spoof)], count: N }],
        signatures: { spoof: l4of6(spoof) },
        until: [{ capture: "third", signature: "spoof", atLeast: N }],
      });
      expect(d.third.spoof).toBeGreaterThanOrEqual(ENOUGH);
      expect(eventually(() => lladdr("third", V6.victim) === MAC.attacker)).toBe(true);
    } finally {
      run("ip", ["-n", ns("third"), "-6", "neigh", "flush", "dev", "eth0"]);
    }
  }, 20_000);

  test("f: a rogue router advertisement and redirects are dropped: no neighbour takes the attacker as its default router", () => {
    const listeners: Name[] = ["victim", "third"];
    // Neighbours that would believe an RA, or the test could not fail.
    for (const g of listeners) run("ip", ["netns", "exec", ns(g), "sysctl", "-q", "-w", "net.ipv6.conf.eth0.forwarding=0", "net.ipv6.conf.eth0.accept_ra=2"]);
    const defaults = (g: Name) => run("ip", ["-n", ns(g), "-6", "route", "show", "default"]);
    try {
      const ra = F.routerAdvert(LL.attacker, MAC.attacker, 1800, "fd00:66::");
      const rogue = F.ether("33:33:00:00:00:01", MAC.attacker, F.ETH_IP6, ra);
      // The redirect quotes a flow the host tracks (the victim's UDP to the third), so conntrack takes it as related, not invalid.
      const flow = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('', 40000)); s.sendto(b'flow', ('" + V4.third + "', 5000))";
      expect(nsExec(ns("victim"), "python3", ["-c", flow]).status).toBe(0);
      const quoted = F.udp4(V4.victim, V4.third, 40000, 5000, Buffer.from("flow"));
      const r4 = F.redirect4(V4.attacker, V4.victim, V4.attacker, quoted);
      const r6 = F.redirect6(LL.attacker, LL.victim, LL.attacker, "2001:db8::1", MAC.attacker);
      const hello = F.echo6(LL.attacker, "ff02::1", 1, F.marker("hello"));
      const c = F.exchange({
        captures: { victim: guest("victim"), third: guest("third"), sent: hostEnd("attacker") },
        sends: [
          { from: guest("attacker"), frames: [rogue, F.ether(MAC.victim, MAC.attacker, F.ETH_IP, r4), F.ether(MAC.victim, MAC.attacker, F.ETH_IP6, r6)], count: N },
          { from: guest("attacker"), frames: [F.ether("33:33:00:00:00:01", MAC.attacker, F.ETH_IP6, hello)], count: N },
        ],
        signatures: { ra: l4of6(ra), redirect4: l4of4(r4), redirect6: l4of6(r6), hello: F.marker("hello") },
        until: [{ capture: "victim", signature: "hello", atLeast: N }, { capture: "third", signature: "hello", atLeast: N }],
      });
      expect(c.sent.ra).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.sent.redirect4).toBeGreaterThanOrEqual(ENOUGH);
      expect([c.victim.ra, c.third.ra, c.victim.redirect4, c.victim.redirect6]).toEqual([0, 0, 0, 0]);
      for (const g of listeners) expect({ g, defaults: defaults(g) }).toEqual({ g, defaults: "" });
      // Control: the attacker's multicast ICMPv6 that the group allows reaches both.
      expect(c.victim.hello).toBeGreaterThanOrEqual(ENOUGH);
      expect(c.third.hello).toBeGreaterThanOrEqual(ENOUGH);

      // Control: the identical RA on the victim's own wire makes the attacker its default router.
      const d = F.exchange({
        captures: { victim: guest("victim") },
        sends: [{ from: hostEnd("victim"), frames: [rogue], count: N }],
        signatures: { ra: l4of6(ra) },
        until: [{ capture: "victim", signature: "ra", atLeast: N }],
      });
      expect(d.victim.ra).toBeGreaterThanOrEqual(ENOUGH);
      expect(eventually(() => defaults("victim").includes(`via ${LL.attacker} `))).toBe(true);
    } finally {
      for (const g of listeners) {
        run("ip", ["netns", "exec", ns(g), "sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_ra=0"]);
        nsExec(ns(g), "ip", ["-6", "route", "del", "default"]);
        nsExec(ns(g), "ip", ["-6", "route", "del", "fd00:66::/64"]);
        nsExec(ns(g), "ip", ["-6", "addr", "flush", "dev", "eth0", "dynamic"]);
      }
    }
  }, 20_000);

  test("g: DHCP server replies from a guest (67→68, 547→546) are dropped; its UDP broadcast from port 67 to an open port arrives", () => {
    const offer = (dport: number, name: string) =>
      F.ether(F.BROADCAST, MAC.attacker, F.ETH_IP, F.udp4(V4.attacker, "255.255.255.255", 67, dport, F.bootpReply(MAC.victim, "10.30.0.99", F.marker(name))));
    const reply6 = F.ether(MAC.victim, MAC.attacker, F.ETH_IP6, F.udp6(LL.attacker, LL.victim, 547, 546, F.marker("reply6")));
    const c = F.exchange({
      captures: { victim: guest("victim"), third: guest("third"), sent: hostEnd("attacker") },
      sends: [
        { from: guest("attacker"), frames: [offer(68, "offer"), reply6], count: N },
        { from: guest("attacker"), frames: [offer(5000, "open")], count: N },
        { from: hostEnd("victim"), frames: [offer(68, "direct")], count: N },
      ],
      signatures: Object.fromEntries(["offer", "reply6", "open", "direct"].map((k) => [k, F.marker(k)])),
      until: [{ capture: "victim", signature: "open", atLeast: N }, { capture: "third", signature: "open", atLeast: N }, { capture: "victim", signature: "direct", atLeast: N }],
    });
    expect(c.sent.offer).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.sent.reply6).toBeGreaterThanOrEqual(ENOUGH);
    expect([c.victim.offer, c.third.offer, c.victim.reply6]).toEqual([0, 0, 0]);
    // Controls: the same broadcast to an open port arrives at both; the offer on the victim's wire is counted.
    expect(c.victim.open).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.third.open).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.victim.direct).toBeGreaterThanOrEqual(ENOUGH);
  }, 20_000);

  test("i: a guest cannot ride another node's established flow with its address: the port guard checks IP sources before conntrack, which iptables' fast path trusts", () => {
    // A flow the victim starts with `plain` (an unguarded port): victim 6000 -> plain 7777, and plain's reply.
    const datagram = (src: string, sport: number, dport: number, name: string, srcMac: string, dstMac: string, dst: string) =>
      F.ether(dstMac, srcMac, F.ETH_IP, F.udp4(src, dst, sport, dport, F.marker(name)));
    const toVictim = (name: string, srcMac: string, sport = 7777) => datagram(V4.plain, sport, 6000, name, srcMac, MAC.victim, V4.victim);
    const c = F.exchange({
      captures: { victim: guest("victim"), sent: hostEnd("attacker") },
      sends: [
        { from: guest("victim"), frames: [datagram(V4.victim, 6000, 7777, "open-flow", MAC.victim, MAC.plain, V4.plain)], count: 3 },
        { from: guest("plain"), frames: [toVictim("reply", MAC.plain)], count: N },
        // The attack: the reply's addresses and ports, from the attacker's port with its own MAC.
        { from: guest("attacker"), frames: [toVictim("ride", MAC.attacker)], count: N },
        // Controls, from the unguarded port: the attack's frame (the attacker's MAC too) rides the flow
        // and arrives; off the flow (another source port), the victim's ingress rules drop it.
        { from: guest("plain"), frames: [toVictim("ride-unguarded", MAC.attacker), toVictim("off-flow", MAC.plain, 7778)], count: N },
        { from: guest("plain"), frames: [toVictim("reply-after", MAC.plain)], count: N },
      ],
      signatures: Object.fromEntries(["reply", "ride", "ride-unguarded", "off-flow", "reply-after"].map((k) => [k, F.marker(k)])),
      until: [{ capture: "victim", signature: "reply-after", atLeast: N }, { capture: "victim", signature: "ride-unguarded", atLeast: N }],
    });
    expect(c.sent.ride).toBeGreaterThanOrEqual(ENOUGH);
    expect({ ride: c.victim.ride, offFlow: c.victim["off-flow"] }).toEqual({ ride: 0, offFlow: 0 });
    expect(c.victim.reply).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.victim["ride-unguarded"]).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.victim["reply-after"]).toBeGreaterThanOrEqual(ENOUGH);
  }, 20_000);

  const linkLocals = (g: Name) => run("ip", ["-n", ns(g), "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).split("\n").filter(Boolean).map((l) => l.split(/\s+/)[3]);

  test("h: each guest's only link-local is the EUI-64 one of its MAC, and IPv6 from any other link-local is dropped", () => {
    for (const g of NAMES) {
      expect({ g, linkLocals: linkLocals(g) }).toEqual({ g, linkLocals: [`${LL[g]}/64`] });
      expect(run("ip", ["-n", ns(g), "-d", "link", "show", "eth0"])).toContain("addrgenmode none");
    }
    const ping = (src: string, name: string) => F.ether(MAC.victim, MAC.attacker, F.ETH_IP6, F.echo6(src, LL.victim, 1, F.marker(name)));
    const c = F.exchange({
      captures: { victim: guest("victim"), sent: hostEnd("attacker") },
      sends: [{ from: guest("attacker"), frames: [ping(LL.third, "theirs"), ping("fe80::bad:1", "madeup")], count: N }, { from: guest("attacker"), frames: [ping(LL.attacker, "own")], count: N }],
      signatures: Object.fromEntries(["theirs", "madeup", "own"].map((k) => [k, F.marker(k)])),
      until: [{ capture: "victim", signature: "own", atLeast: N }],
    });
    expect(c.sent.theirs).toBeGreaterThanOrEqual(ENOUGH);
    expect(c.sent.madeup).toBeGreaterThanOrEqual(ENOUGH);
    expect([c.victim.theirs, c.victim.madeup]).toEqual([0, 0]);
    expect(c.victim.own).toBeGreaterThanOrEqual(ENOUGH);
  }, 20_000);

  test("h: a link-local someone added to a guest is gone after its stage is applied again", () => {
    run("ip", ["-n", ns("attacker"), "-6", "addr", "add", "fe80::bad:1/64", "dev", "eth0", "nodad"]);
    expect(linkLocals("attacker").sort()).toEqual([`${LL.attacker}/64`, "fe80::bad:1/64"].sort());
    const stage = stages.find((s) => s.id === "guest/attacker")!;
    const x = runStage(lab, stage, "apply");
    expect({ status: x.status, output: x.status === 0 ? "" : x.output }).toEqual({ status: 0, output: "" });
    expect(linkLocals("attacker")).toEqual([`${LL.attacker}/64`]);
    // And the guest still talks from the lab's one.
    expect(nsExec(ns("attacker"), "ping", ["-6", "-c", "1", "-W", "2", `${LL.victim}%eth0`]).status).toBe(0);
  }, 20_000);
});
