import { Cidr, InvalidValueError, IpAddress, PortSpec, isPortNumber, peerText, portText, shortHash, validateIdentifier } from "../net";
import { ResolveContext, isDefined } from "./context";
import { Family, Guest, ResolvedSecurityGroup, SecurityRule } from "./lab";
import { SecurityRuleSpec } from "./spec";

/** ipset names are at most 31 characters (IPSET_MAXNAMELEN 32 with the NUL). */
export const MAX_IPSET_NAME = 31;
const DESCRIPTION_RE = /^[A-Za-z0-9 _.,:;/=+@()#%-]{0,255}$/;
const MIN_MAXELEM = 1024;

/** `cn-<prefix>-<group>-<family>`, hashed when longer than ipset allows. */
export function ipsetName(prefix: string, group: string, family: Family): string {
  const full = `cn-${prefix}-${group}-${family}`;
  if (full.length <= MAX_IPSET_NAME) return full;
  return `cn-${prefix}-${shortHash(group, MAX_IPSET_NAME - prefix.length - 6)}-${family}`;
}

/** The marker every ipset of a lab starts with. */
export function ipsetMarker(prefix: string): string {
  return `cn-${prefix}-`;
}

/** Room for growth without re-creating the set: twice the members, at least 1,024, a power of two. */
export function maxelemFor(members: number): number {
  let n = MIN_MAXELEM;
  while (n < members * 2) n *= 2;
  return n;
}

/**
 * Security groups: names, rules (one per family they apply to), member sets. Guests naming unknown
 * groups and peers naming groups of another lab are errors; a peer group without members (of that
 * family) is a warning, since the rule then matches nothing.
 */
export function resolveSecurityGroups(ctx: ResolveContext, guests: readonly Guest[], warnings: Array<{ path: string; message: string }>): ResolvedSecurityGroup[] {
  const specs = ctx.spec.securityGroups ?? [];
  const firstPath = new Map<string, string>();
  for (const g of specs) {
    const other = firstPath.get(g.name);
    if (other) ctx.issues.add(g.path, `security group name '${g.name}' is already used by ${other}; give each group its own name.`);
    else firstPath.set(g.name, g.path);
  }
  const names = new Set(firstPath.keys());
  for (const g of ctx.spec.guests) {
    (g.securityGroupLabs ?? []).forEach((lab, i) => {
      if (lab !== ctx.spec.path) {
        ctx.issues.add(g.path, `guest '${g.name}' joins security group '${g.securityGroups![i]}' of lab ${lab}; a guest can only join groups of its own lab (${ctx.spec.path}).`);
      }
    });
    for (const sg of g.securityGroups ?? []) {
      if (!names.has(sg)) ctx.issues.add(g.path, `guest '${g.name}' joins security group '${sg}', which is not in the lab; create it with new SecurityGroup(lab, '${sg}').`);
    }
    if ((g.securityGroups ?? []).length > 0 && !ctx.emulated && g.compute.kind === "container") {
      ctx.issues.add(g.path, `security groups on real-host containers are not supported: Docker names their host-side veths at random, so no rule can match them; put the guest on an emulated lab or use a VM.`);
    }
  }
  // Anti-spoofing and ARP checks need the NIC's IPv4 address.
  for (const g of guests.filter((x) => x.nics.some((n) => n.securityGroups.length > 0))) {
    for (const n of g.nics.filter((x) => x.address.family !== 4)) {
      ctx.issues.add(g.path, `guest '${g.name}' is in security groups, but NIC ${n.index} on segment '${n.segment}' has only an IPv6 address; give the segment an IPv4 cidr and the IPv6 one as ipv6Cidr (dual stack).`);
    }
  }
  const members = (group: string, family: Family): IpAddress[] =>
    guests.flatMap((g) => g.nics.filter((n) => n.securityGroups.includes(group)).flatMap((n) => [n.address, n.address6]))
      .filter((a): a is IpAddress => a !== undefined && a.family === family);

  return specs.map((spec) => {
    const name = ctx.issues.check(spec.path, () => validateIdentifier(spec.name, "security group"));
    if (!name) return undefined;
    const owner = { name, hasIpv6: members(name, 6).length > 0 };
    const ingress = spec.ingress.flatMap((r) => resolveRule(ctx, owner, r, "ingress", names, members, warnings));
    const egressSpecs = spec.egress;
    const restrictEgress = spec.allowAllOutbound === false || egressSpecs.some((r) => !r.implied);
    const egress = egressSpecs.flatMap((r) => resolveRule(ctx, owner, r, "egress", names, members, warnings));
    const m4 = members(name, 4);
    const m6 = members(name, 6);
    return {
      name, path: spec.path, restrictEgress, rules: [...ingress, ...egress],
      sets: { 4: ipsetName(ctx.prefix, name, 4), 6: ipsetName(ctx.prefix, name, 6) },
      members: { 4: m4, 6: m6 },
      maxelem: maxelemFor(Math.max(m4.length, m6.length)),
    };
  }).filter(isDefined);
}

function resolveRule(
  ctx: ResolveContext, owner: { name: string; hasIpv6: boolean }, r: SecurityRuleSpec, direction: "ingress" | "egress", groupNames: ReadonlySet<string>,
  members: (group: string, family: Family) => IpAddress[], warnings: Array<{ path: string; message: string }>,
): SecurityRule[] {
  const where = `${direction} rule ${peerText(r.peer)} ${portText(r.port)}`;
  const fail = (message: string): SecurityRule[] => {
    ctx.issues.add(r.path, `${where}: ${message}`);
    return [];
  };
  if (r.description !== undefined && !DESCRIPTION_RE.test(r.description)) {
    return fail(`description '${r.description.slice(0, 60)}' may only hold letters, digits, spaces and _ . , : ; / = + @ ( ) # % - (at most 255), so it can never reach a shell or the rule text.`);
  }
  const portError = checkPort(r.port);
  if (portError) return fail(portError);
  const families = portFamilies(r.port);
  const base = { direction, port: r.port, description: r.description };
  const peer = r.peer;
  // An IPv6 address peer guards nothing when no member of the group has an IPv6 address (for a
  // group peer, the check of the peer's own members below says it, once).
  const ipv6Only = peer.kind !== "group" && (peer.family === 6 || (families.length === 1 && families[0] === 6));
  if (ipv6Only && !owner.hasIpv6) {
    warnings.push({ path: r.path, message: `${where}: group '${owner.name}' has no member with an IPv6 address, so the IPv6 rule matches nothing.` });
  }
  switch (peer.kind) {
    case "any":
      if (!families.includes(peer.family)) return fail(`${r.port.protocol} cannot match an IPv${peer.family} peer; use ${peer.family === 6 ? "Port.icmpv6Type" : "Port.icmpType"}.`);
      return [{ ...base, family: peer.family, peer: { kind: "any" } }];
    case "cidr": {
      let cidr: Cidr;
      try {
        cidr = Cidr.parse(peer.cidr);
      } catch (e) {
        return fail((e as InvalidValueError).message);
      }
      if (cidr.family !== peer.family) return fail(`'${peer.cidr}' is an IPv${cidr.family} CIDR; use Peer.ipv${cidr.family}('${peer.cidr}').`);
      if (!families.includes(cidr.family)) return fail(`${r.port.protocol} cannot match an IPv${cidr.family} peer; use ${cidr.family === 6 ? "Port.icmpv6Type" : "Port.icmpType"}.`);
      return [{ ...base, family: cidr.family, peer: { kind: "cidr", cidr } }];
    }
    case "group": {
      if (peer.lab !== ctx.spec.path) {
        return fail(`group '${peer.group}' belongs to lab ${peer.lab}, not to this lab (${ctx.spec.path}); a rule can only name groups of its own lab.`);
      }
      if (!groupNames.has(peer.group)) return fail(`group '${peer.group}' is not in the lab.`);
      const out = families.map((family) => ({ ...base, family, peer: { kind: "group" as const, group: peer.group, set: ipsetName(ctx.prefix, peer.group, family) } }));
      const with4 = members(peer.group, 4).length;
      const with6 = members(peer.group, 6).length;
      if (with4 + with6 === 0) {
        warnings.push({ path: r.path, message: `${where}: group '${peer.group}' has no members yet, so the rule matches nothing.` });
      } else if (with6 === 0 && families.length === 1 && families[0] === 6) {
        warnings.push({ path: r.path, message: `${where}: group '${peer.group}' has no member with an IPv6 address, so the IPv6 rule matches nothing.` });
      }
      return out;
    }
  }
}

/** Families a port spec can match: ICMP is IPv4 only, ICMPv6 IPv6 only, the rest both. */
function portFamilies(p: PortSpec): Family[] {
  if (p.protocol === "icmp") return [4];
  if (p.protocol === "icmpv6") return [6];
  return [4, 6];
}

/** What is wrong with a port spec, in words, or undefined. */
export function checkPort(p: PortSpec): string | undefined {
  if (p.protocol === "tcp" || p.protocol === "udp") {
    for (const n of [p.from, p.to]) {
      if (!isPortNumber(n)) return `port ${n} is out of range: a port is 1-65535.`;
    }
    if (p.from > p.to) return `port range ${p.from}-${p.to} is reversed; did you mean Port.${p.protocol}Range(${p.to}, ${p.from})?`;
    return undefined;
  }
  if (p.protocol === "icmp" || p.protocol === "icmpv6") {
    if (p.type !== undefined && (!Number.isInteger(p.type) || p.type < 0 || p.type > 255)) return `ICMP type ${p.type} is out of range 0-255.`;
    if (p.code !== undefined && (!Number.isInteger(p.code) || p.code < 0 || p.code > 255)) return `ICMP code ${p.code} is out of range 0-255.`;
  }
  return undefined;
}
