import { IpAddress, PortSpec, heredoc, sh, shortHash } from "../net";
import { Family, Guest, Host, Nic, ResolvedLab, ResolvedSecurityGroup, SecurityRule, ipsetMarker } from "../model";
import { Ruleset } from "./firewall";

/** A NIC of a guest on this host that belongs to at least one security group. */
interface GuardedNic {
  readonly guest: Guest;
  readonly nic: Nic;
  readonly groups: readonly ResolvedSecurityGroup[];
}

function guardedNics(lab: ResolvedLab, host: Host): GuardedNic[] {
  const byName = new Map(lab.securityGroups.map((g) => [g.name, g]));
  return lab.guests.filter((g) => g.host === host.name).flatMap((guest) =>
    guest.nics.filter((nic) => nic.securityGroups.length > 0).map((nic) => ({ guest, nic, groups: nic.securityGroups.map((n) => byName.get(n)!) })));
}

/** Whether the host filters any NIC (and so needs br_netfilter and the rules below). */
export function hasSecurityGroups(lab: ResolvedLab, host: Host): boolean {
  return guardedNics(lab, host).length > 0;
}

/**
 * Security groups on one host, per family, in the lab's own chains (Neutron's design): frames a
 * bridge forwards pass FORWARD thanks to br_netfilter; `SG` sends those leaving a guarded NIC to its
 * egress chain (anti-spoofing, then egress rules) and those going to one to its ingress chain
 * (stateful, default deny). Group peers are ipsets: one rule per group rule, whatever the members.
 * Returns the `SG` chain (undefined when no NIC of the host is guarded); the host guard jumps to it.
 */
export function securityRules(lab: ResolvedLab, host: Host, rs: Ruleset): string | undefined {
  const nics = guardedNics(lab, host);
  if (nics.length === 0) return undefined;
  const sg = rs.chain("filter", "SG");
  for (const n of nics) rs.rule(sg, sh`-m physdev --physdev-in ${n.nic.hostDev} --physdev-is-bridged -j ${egressChain(rs, n, rs.family)}`);
  for (const n of nics) rs.rule(sg, sh`-m physdev --physdev-out ${n.nic.hostDev} --physdev-is-bridged -j ${ingressChain(rs, n, rs.family)}`);
  return sg;
}

const ND_TYPES_OUT = [133, 135, 136, 143]; // router solicitation, neighbour solicitation/advertisement, MLDv2 report
const ND_TYPES_IN = [130, 134, 135, 136]; // MLD query, router advertisement, neighbour solicitation/advertisement

/** Egress of one NIC: only its own MAC and addresses (DHCP and IPv6 DAD allowed), then its groups' egress rules. */
function egressChain(rs: Ruleset, n: GuardedNic, family: Family): string {
  const id = `${n.guest.name}-${n.nic.index}`;
  const spoof = rs.chain("filter", `O-${id}`);
  const policy = rs.chain("filter", `E-${id}`);
  // Hot path first: every packet passes here, and the common ones should match early.
  rs.rule(spoof, sh`-m mac ! --mac-source ${n.nic.mac.toString()} -j DROP`);
  if (family === 4) {
    rs.rule(spoof, sh`-s ${n.nic.address.toString()}/32 -g ${policy}`);
    rs.rule(spoof, "-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp --sport 68 --dport 67 -j RETURN");
  } else {
    if (n.nic.address6) rs.rule(spoof, sh`-s ${n.nic.address6.toString()}/128 -g ${policy}`);
    rs.rule(spoof, sh`-s ${linkLocal(n.nic.mac.toString())}/128 -g ${policy}`);
    rs.rule(spoof, "-s ::/128 -p ipv6-icmp -j RETURN");
  }
  rs.rule(spoof, "-j DROP");

  rs.rule(policy, "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN");
  rs.rule(policy, "-m conntrack --ctstate INVALID -j DROP");
  if (family === 6) for (const t of ND_TYPES_OUT) rs.rule(policy, sh`-p ipv6-icmp --icmpv6-type ${t} -j RETURN`);
  if (n.groups.some((g) => !g.restrictEgress)) {
    rs.rule(policy, "-j RETURN");
  } else {
    // DHCP renewals go unicast to the server: a restricted guest must still keep its lease.
    if (family === 4) rs.rule(policy, "-p udp --sport 68 --dport 67 -j RETURN");
    for (const g of n.groups) for (const r of rulesOf(g, "egress", family)) rs.rule(policy, withTarget(r, "RETURN"));
    rs.rule(policy, "-j DROP");
  }
  return spoof;
}

/** Ingress of one NIC: replies, DHCP and neighbour discovery, then its groups' ingress rules; the rest is dropped. */
function ingressChain(rs: Ruleset, n: GuardedNic, family: Family): string {
  const chain = rs.chain("filter", `I-${n.guest.name}-${n.nic.index}`);
  rs.rule(chain, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  rs.rule(chain, "-m conntrack --ctstate INVALID -j DROP");
  if (family === 4) rs.rule(chain, "-p udp --sport 67 --dport 68 -j ACCEPT");
  else for (const t of ND_TYPES_IN) rs.rule(chain, sh`-p ipv6-icmp --icmpv6-type ${t} -j ACCEPT`);
  for (const g of n.groups) for (const r of rulesOf(g, "ingress", family)) rs.rule(chain, withTarget(r, "ACCEPT"));
  rs.rule(chain, "-j DROP");
  return chain;
}

function rulesOf(g: ResolvedSecurityGroup, direction: SecurityRule["direction"], family: Family): SecurityRule[] {
  return g.rules.filter((r) => r.direction === direction && r.family === family);
}

function withTarget(r: SecurityRule, target: string): string {
  const m = match(r);
  return m ? `${m} -j ${target}` : `-j ${target}`;
}

/** The match part of a rule, peer side chosen by direction. */
export function match(r: SecurityRule): string {
  const side = r.direction === "ingress" ? "src" : "dst";
  const flag = r.direction === "ingress" ? "-s" : "-d";
  const parts: string[] = [];
  if (r.peer.kind === "cidr") parts.push(sh`${flag} ${r.peer.cidr.toString()}`);
  if (r.peer.kind === "group") parts.push(sh`-m set --match-set ${r.peer.set} ${side}`);
  parts.push(portMatch(r.port));
  // Descriptions were checked to hold no quote, backslash or control character: safe in quotes.
  if (r.description) parts.push(`-m comment --comment "${r.description}"`);
  return parts.filter((x) => x).join(" ");
}

/** The match for a protocol and its ports or ICMP type ("" for any). */
export function portMatch(p: PortSpec): string {
  const parts: string[] = [];
  if (p.protocol === "tcp" || p.protocol === "udp") {
    parts.push(p.from === p.to ? sh`-p ${p.protocol} --dport ${p.from}` : sh`-p ${p.protocol} --dport ${p.from}:${p.to}`);
  } else if (p.protocol === "icmp" || p.protocol === "icmpv6") {
    const proto = p.protocol === "icmp" ? "icmp" : "ipv6-icmp";
    const opt = p.protocol === "icmp" ? "--icmp-type" : "--icmpv6-type";
    if (p.type === undefined) parts.push(sh`-p ${proto}`);
    else parts.push(p.code === undefined ? sh`-p ${proto} ${opt} ${p.type}` : sh`-p ${proto} ${opt} ${p.type}/${p.code}`);
  }
  return parts.join(" ");
}

/** The IPv6 link-local address the kernel derives from a MAC (EUI-64). */
export function linkLocal(mac: string): string {
  const b = mac.split(":").map((x) => parseInt(x, 16));
  b[0] ^= 0x02;
  const words = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(":")}`;
}

/** Sets used by the host's rules: each group peer's members, per family. */
function setsUsed(lab: ResolvedLab, host: Host): Array<{ group: ResolvedSecurityGroup; family: Family }> {
  const byName = new Map(lab.securityGroups.map((g) => [g.name, g]));
  const used = new Map<string, { group: ResolvedSecurityGroup; family: Family }>();
  for (const n of guardedNics(lab, host)) {
    // Exactly the rules the NIC's chains render: egress ones only where all its groups restrict egress.
    const restricted = n.groups.every((g) => g.restrictEgress);
    for (const g of n.groups) {
      for (const r of g.rules) {
        if (r.peer.kind !== "group" || (r.direction === "egress" && !restricted)) continue;
        used.set(r.peer.set, { group: byName.get(r.peer.group)!, family: r.family });
      }
    }
  }
  return [...used.values()].sort((a, b) => a.group.sets[a.family].localeCompare(b.group.sets[b.family]));
}

/** The temporary twin of a set, for restore-then-swap: `ct-` instead of `cn-`, same length. */
export function tempSetName(set: string): string {
  return `ct-${set.slice(3)}`;
}

/**
 * ipset updates: each set is filled under a temporary name and swapped in, so rules never see a
 * half-filled set; sets this host no longer uses are destroyed after the rules stop naming them.
 */
export function ipsetApply(lab: ResolvedLab, host: Host): { before: string[]; after: string[]; sets: Array<{ name: string; family: Family }> } {
  const sets = setsUsed(lab, host);
  const before: string[] = [];
  for (const { group, family } of sets) {
    const name = group.sets[family];
    const temp = tempSetName(name);
    const type = sh`hash:ip family ${family === 4 ? "inet" : "inet6"} maxelem ${group.maxelem}`;
    const lines = [
      `create ${temp} ${type}`,
      ...group.members[family].map((ip) => sh`add ${temp} ${ip.toString()}`),
      sh`swap ${temp} ${name}`,
      sh`destroy ${temp}`,
    ];
    // A set that already holds exactly these members is left alone: a second apply changes nothing.
    const members = [sh`cn_ipset_same ${name} ${group.maxelem}`, ...group.members[family].map((ip) => sh`${ip.toString()}`)].join(" ");
    before.push(
      `if ! ${members}; then`,
      sh`  ipset destroy ${temp} 2>/dev/null || true`,
      `  ipset list -n ${name} >/dev/null 2>&1 || ipset create ${name} ${type}`,
      heredoc("  ipset restore", lines.join("\n")),
      "fi",
    );
  }
  const names = sets.map(({ group, family }) => group.sets[family]);
  return {
    before, after: [sh`cn_ipset_prune ${ipsetMarker(lab.prefix)} ${names.join(",") || "-"}`],
    sets: sets.map(({ group, family }) => ({ name: group.sets[family], family })),
  };
}

/** The lab's sets that `keep` (a comma list, "-" for none) does not name, and any temporary twin left by a failed apply. */
export function ipsetPrune(prefix: string, keep: string): string[] {
  return [sh`cn_ipset_prune ${ipsetMarker(prefix)} ${keep}`, sh`cn_ipset_prune ${`ct-${prefix}-`} -`];
}

/** Teardown: every set of the lab (after its chains are gone). */
export function ipsetRemoveAll(prefix: string): string[] {
  return ipsetPrune(prefix, "-");
}

/**
 * Anti-spoofing before conntrack, and what iptables cannot see: the Ethernet and IP sources, ARP and
 * tags of frames from a guarded NIC, in a bridge-family nftables table the lab owns whole and
 * replaces atomically.
 */
export function arpGuard(lab: ResolvedLab, host: Host): string[] {
  const nics = guardedNics(lab, host);
  const table = nftTable(lab.prefix);
  if (nics.length === 0) return arpGuardRemove(lab.prefix);
  // One lookup per frame (a verdict map on the input port), then the three checks of that port.
  const chains = nics.map(({ nic }) => ({ dev: nic.hostDev, chain: `port_${nic.hostDev.replace(/-/g, "_")}`, nic }));
  const body = [
    ...chains.flatMap(({ chain, nic }) => [`  chain ${chain} {`, ...portGuard(nic).map((r) => `    ${r}`), "  }"]),
    "  chain guard {",
    "    type filter hook prerouting priority -200; policy accept;",
    `    iifname vmap { ${chains.map(({ dev, chain }) => `"${dev}" : jump ${chain}`).join(", ")} }`,
    "  }",
    // Towards a guarded port too, whoever sends (an unguarded guest, another host through the tunnel):
    // a tagged or non-IP frame would reach the guest past its ingress rules, which br_netfilter never shows it to.
    // The allow-list takes tags with it: 8021q and 8021ad are ethertypes outside it.
    "  chain to_guarded {",
    "    type filter hook forward priority -200; policy accept;",
    // Plain comparisons first: every frame passes here, and a set lookup costs more than three compares.
    "    ether type ip accept",
    "    ether type ip6 accept",
    "    ether type arp accept",
    `    oifname { ${chains.map(({ dev }) => `"${dev}"`).join(", ")} } drop`,
    "  }",
  ];
  // The table carries a digest of its contents: a second apply finds it and changes nothing.
  const digest = shortHash(body.join("\n"), 16);
  const payload = [`table bridge ${table}`, `delete table bridge ${table}`, `table bridge ${table} {`, `  comment "${digest}"`, ...body, "}"].join("\n");
  // Read whole, not piped into `grep -q`: grep would stop at line 2 and nft die of SIGPIPE, which pipefail counts as a miss.
  return [`if [[ "$(nft list table bridge ${table} 2>/dev/null)" != *'comment "${digest}"'* ]]; then`, heredoc("  nft -f -", payload), "fi"];
}

/**
 * What a guarded port may send, below what iptables sees: untagged IPv4, IPv6 and ARP from its own
 * MAC and addresses, and none of the messages only routers and servers send. A tagged frame (VID 0
 * too: the receiver takes a priority tag as untagged) would pass br_netfilter unfiltered.
 */
function portGuard(nic: Nic): string[] {
  const mac = nic.mac.toString();
  const ll = linkLocal(mac);
  // Guarded NICs always have an IPv4 address (the model refuses IPv6-only ones), and maybe an IPv6 one.
  const targets = [ll, ...(nic.address6 ? [nic.address6.toString()] : [])].map(hex128);
  const na = "icmpv6 type nd-neighbor-advert";
  return [
    // The common case first, by plain compares (no set lookup): TCP over IPv4 from its own MAC and address.
    `ether type ip ether saddr ${mac} ip saddr ${nic.address} meta l4proto tcp accept`,
    // An allow-list: 802.1Q and 802.1ad tags (a priority tag too) are ethertypes outside it.
    "ether type != { ip, ip6, arp } drop",
    `ether saddr != ${mac} drop`,
    // Its own addresses (unspecified for DHCP and DAD) before conntrack sees the packet: iptables
    // accepts packets of established connections without looking at their source again.
    `ip saddr != { ${nic.address}, 0.0.0.0 } drop`,
    `ip6 saddr != { ${[ll, ...(nic.address6 ? [nic.address6.toString()] : []), "::"].join(", ")} } drop`,
    // TCP needs nothing of the checks below (ARP, ICMP, DHCP, neighbour discovery): done early (IPv6).
    "meta l4proto tcp accept",
    `arp saddr ether != ${mac} drop`,
    `arp saddr ip != ${nic.address} drop`,
    // Routers' and servers' messages: RAs and redirects re-route neighbours, a rogue DHCP server hands out leases.
    "icmpv6 type { nd-router-advert, nd-redirect } drop",
    "icmp type { redirect, router-advertisement } drop",
    "udp sport 67 udp dport 68 drop",
    "udp sport 547 udp dport 546 drop",
    // A neighbour advertisement speaks only for the guest's own addresses and MAC: the target (bytes
    // 8-23 of the ICMPv6 message) is one of them, and the only option, if any, is its own link-layer address.
    `${na} @th,64,128 != { ${targets.join(", ")} } drop`,
    `${na} ip6 length != { 24, 32 } drop`,
    `${na} ip6 length 32 @th,192,16 != 0x0201 drop`,
    `${na} ip6 length 32 @th,208,48 != 0x${mac.replace(/:/g, "")} drop`,
  ];
}

/** An IPv6 address as the 128-bit number nft compares raw payload with. */
function hex128(address: string): string {
  return `0x${IpAddress.parse(address).toBigInt().toString(16).padStart(32, "0")}`;
}

/** The lab's nftables table (prefixes are a-z0-9, so this is a valid nft identifier). */
export function nftTable(prefix: string): string {
  return `cn_${prefix}`;
}

/** Teardown of the bridge table. */
export function arpGuardRemove(prefix: string): string[] {
  return [sh`nft delete table bridge ${nftTable(prefix)} 2>/dev/null || true`];
}

