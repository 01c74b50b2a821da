import { Cidr, InvalidValueError, IpAddress, MacAddress, kernelName, validateIdentifier, validateInterfaceName } from "../net";
import { Issue, IssueCollector } from "./issues";
import {
  Guest, Host, MIN_IPV4_MTU, MIN_IPV6_MTU, Nic, ResolvedLab, Segment, VNI_MAX, VNI_MIN, VXLAN_OVERHEAD_IPV4, VXLAN_OVERHEAD_IPV6,
} from "./lab";
import { GuestSpec, HostSpec, LabSpec, SegmentSpec, TargetSpec } from "./spec";
import { validateCompute, validateTarget } from "./validate-parts";

const PREFIX_RE = /^[a-z][a-z0-9]{0,5}$/;
const FIRST_AUTO_VNI = 1000;
/** Auto-allocated guest addresses start here; lower ones stay free for gateways. */
const FIRST_AUTO_HOST_OFFSET = 10n;

export interface Resolution {
  /** Present only when there are no issues. */
  readonly lab?: ResolvedLab;
  readonly issues: readonly Issue[];
}

/** Validates a lab spec and allocates what was left open. Never throws on bad input. */
export function resolveLab(spec: LabSpec): Resolution {
  const c = new IssueCollector();
  const name = c.check(spec.path, () => validateIdentifier(spec.name, "lab"));
  const prefix = labPrefix(spec);
  if (!PREFIX_RE.test(prefix)) {
    c.add(spec.path, `prefix '${prefix}' is invalid: use 1-6 characters of a-z and 0-9, starting with a letter, e.g. 'lab1'.`);
  }
  const fabricCidr = spec.backend.kind === "emulated"
    ? c.check(spec.path, () => parseFabric(spec.backend.kind === "emulated" ? spec.backend.fabricCidr : "", spec.hosts.length))
    : undefined;

  const nodeNames = new Map<string, string>();
  const claimName = (n: string, path: string, what: string) => {
    if (n === "fabric") c.add(path, `${what} name 'fabric' is reserved for the emulated underlay; choose another name.`);
    const other = nodeNames.get(n);
    if (other) c.add(path, `${what} name '${n}' is already used by ${other}; host and guest names must be unique in a lab.`);
    else nodeNames.set(n, path);
  };

  const hosts = spec.hosts.map((h, i) => resolveHost(c, spec, h, i, prefix, fabricCidr, claimName)).filter(isDefined);
  checkUnique(c, hosts.map((h) => [h.underlay.toString(), h.path]), "underlay address");
  checkUnderlayFamilies(c, hosts);
  const locals = hosts.filter((h) => h.target.kind === "local");
  if (locals.length > 1) c.add(locals[1].path, `only one host can be the local machine; '${locals[0].name}' already is.`);

  const hostNames = new Set(spec.hosts.map((h) => h.name));
  const segments = resolveSegments(c, spec, prefix, hostNames, underlayFamily(hosts));
  const segmentByName = new Map(segments.map((s) => [s.name, s]));
  const guests = resolveGuests(c, spec, prefix, hostNames, segmentByName, claimName);

  const spans = new Map(segments.map((s) => [s.name, new Set(s.hosts)]));
  for (const g of guests) for (const n of g.nics) spans.get(n.segment)?.add(g.host);
  const finalSegments = segments.map((s) => ({ ...s, hosts: [...spans.get(s.name)!].sort() }));
  checkDeviceNames(c, hosts, finalSegments, guests);

  if (c.issues.length > 0 || !name) return { issues: c.issues };
  const lab: ResolvedLab = {
    name, path: spec.path, prefix, backend: spec.backend,
    fabric: fabricCidr ? { netns: `${prefix}-fabric`, cidr: fabricCidr } : undefined,
    hosts, segments: finalSegments, guests,
  };
  return { lab, issues: [] };
}

/** The prefix a lab's kernel objects carry: the given one, or the name's first 6 letters and digits. */
export function labPrefix(spec: Pick<LabSpec, "name" | "prefix">): string {
  return spec.prefix ?? String(spec.name).replace(/[^a-z0-9]/g, "").slice(0, 6);
}

function parseFabric(text: string, hostCount: number): Cidr {
  const cidr = Cidr.parse(text);
  if (cidr.family !== 4) throw new InvalidValueError(`fabric CIDR '${text}' must be IPv4.`);
  if (cidr.size - 2n < BigInt(hostCount)) {
    throw new InvalidValueError(`fabric CIDR '${text}' has room for ${cidr.size - 2n} hosts but the lab has ${hostCount}; use a shorter mask.`);
  }
  return cidr;
}

function resolveHost(
  c: IssueCollector, spec: LabSpec, h: HostSpec, index: number, prefix: string, fabric: Cidr | undefined,
  claimName: (n: string, path: string, what: string) => void,
): Host | undefined {
  const name = c.check(h.path, () => validateIdentifier(h.name, "host"));
  if (!name) return undefined;
  claimName(name, h.path, "host");
  let target: TargetSpec | undefined;
  let underlay: IpAddress | undefined;
  if (spec.backend.kind === "emulated") {
    if (h.target && h.target.kind !== "emulated") {
      c.add(h.path, `host '${name}' has a '${h.target.kind}' target, but the lab's backend is emulated; remove the target or use Backend.hosts().`);
    }
    if (h.underlayAddress !== undefined) {
      c.add(h.path, `host '${name}' sets underlayAddress, but emulated hosts get theirs from the fabric; remove it.`);
    }
    target = { kind: "emulated" };
    underlay = fabric?.addressAt(index + 1);
  } else {
    if (!h.target) {
      c.add(h.path, `host '${name}' has no target: give it target: Target.ssh({ host: '192.0.2.10' }) or Target.local().`);
    } else if (h.target.kind === "emulated") {
      c.add(h.path, `host '${name}' has an emulated target but the lab's backend is 'hosts'; use Backend.emulated() for an emulated lab.`);
    } else {
      target = c.check(h.path, () => validateTarget(h.target!));
    }
    if (h.underlayAddress === undefined) {
      c.add(h.path, `host '${name}' needs underlayAddress: the address other hosts reach it at for VXLAN, e.g. '192.0.2.10'.`);
    } else {
      underlay = c.check(h.path, () => IpAddress.parse(h.underlayAddress!));
    }
  }
  if (!target || !underlay) return undefined;
  const emulated = target.kind === "emulated";
  // RFC 3986: an IPv6 literal in a URI authority is bracketed.
  const uriHost = target.kind === "ssh" && target.host.includes(":") ? `[${target.host}]` : target.kind === "ssh" ? target.host : "";
  const sshUser = target.kind === "ssh" ? `${target.user}@${uriHost}` : undefined;
  const sshPort = target.kind === "ssh" && target.port !== 22 ? `:${target.port}` : "";
  return {
    name, path: h.path, target, underlay,
    netns: emulated ? `${prefix}-${name}` : undefined,
    uplink: "eth0",
    fabricPort: emulated ? kernelName(prefix, "f", name) : undefined,
    libvirtUri: h.libvirtUri ?? (sshUser ? `qemu+ssh://${sshUser}${sshPort}/system` : "qemu:///system"),
    dockerHost: h.dockerHost ?? (sshUser ? `ssh://${sshUser}${sshPort}` : "unix:///var/run/docker.sock"),
  };
}

function underlayFamily(hosts: readonly Host[]): 4 | 6 {
  return hosts.some((h) => h.underlay.family === 6) ? 6 : 4;
}

/** A VXLAN device has one local address, so all hosts of a lab share one underlay family. */
function checkUnderlayFamilies(c: IssueCollector, hosts: readonly Host[]): void {
  const first = hosts[0];
  const other = hosts.find((h) => h.underlay.family !== first?.underlay.family);
  if (first && other) {
    c.add(other.path, `host '${other.name}' has an IPv${other.underlay.family} underlay (${other.underlay}) but '${first.name}' has IPv${first.underlay.family} (${first.underlay}); VXLAN needs one family: give every host an IPv${first.underlay.family} underlayAddress.`);
  }
}

function resolveSegments(c: IssueCollector, spec: LabSpec, prefix: string, hostNames: Set<string>, family: 4 | 6): Segment[] {
  const usedVnis = new Map<number, string>();
  for (const s of spec.segments) {
    if (s.vni === undefined) continue;
    if (!Number.isInteger(s.vni) || s.vni < VNI_MIN || s.vni > VNI_MAX) {
      c.add(s.path, `VNI ${s.vni} is out of range: a VXLAN network identifier is ${VNI_MIN}-${VNI_MAX.toLocaleString("en")}.`);
    } else if (usedVnis.has(s.vni)) {
      c.add(s.path, `VNI ${s.vni} is already used by ${usedVnis.get(s.vni)}; give each segment its own VNI or leave it out to allocate one.`);
    } else {
      usedVnis.set(s.vni, s.path);
    }
  }
  let nextVni = FIRST_AUTO_VNI;
  const seen = new Set<string>();
  const out: Segment[] = [];
  for (const s of spec.segments) {
    const name = c.check(s.path, () => validateIdentifier(s.name, "segment"));
    if (name && seen.has(name)) c.add(s.path, `segment name '${name}' is used twice in the lab.`);
    if (name) seen.add(name);
    const cidr = c.check(s.path, () => Cidr.parse(s.cidr));
    for (const h of s.hosts ?? []) {
      if (!hostNames.has(h)) c.add(s.path, `segment '${s.name}' spans host '${h}', which is not in the lab; add it with lab.addHost('${h}').`);
    }
    const mtu = segmentMtu(c, s, family, cidr);
    let vni = s.vni;
    if (vni === undefined) {
      while (usedVnis.has(nextVni)) nextVni++;
      vni = nextVni++;
    }
    if (!name || !cidr || mtu === undefined) continue;
    out.push({
      name, path: s.path, cidr, vni, mtu,
      bridge: kernelName(prefix, "b", name), vxlan: kernelName(prefix, "v", name),
      hosts: [...new Set(s.hosts ?? [])].filter((h) => hostNames.has(h)),
    });
  }
  return out;
}

function segmentMtu(c: IssueCollector, s: SegmentSpec, family: 4 | 6, cidr: Cidr | undefined): number | undefined {
  const underlayMtu = s.underlayMtu ?? 1500;
  if (!Number.isInteger(underlayMtu) || underlayMtu < MIN_IPV4_MTU || underlayMtu > 65535) {
    c.add(s.path, `underlayMtu ${underlayMtu} is out of range ${MIN_IPV4_MTU}-65535.`);
    return undefined;
  }
  const overhead = family === 6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4;
  const mtu = underlayMtu - overhead;
  const needed = cidr?.family === 6 ? MIN_IPV6_MTU : MIN_IPV4_MTU;
  if (mtu < needed) {
    c.add(s.path, `MTU ${mtu} after VXLAN encapsulation (${underlayMtu} - ${overhead}) is below ${needed}, the minimum for IPv${cidr?.family ?? 4}; raise underlayMtu to at least ${needed + overhead}.`);
    return undefined;
  }
  return mtu;
}

function resolveGuests(
  c: IssueCollector, spec: LabSpec, prefix: string, hostNames: Set<string>, segments: Map<string, Segment>,
  claimName: (n: string, path: string, what: string) => void,
): Guest[] {
  const taken = new Map<string, Map<string, string>>(); // segment -> address -> path
  const macs = new Map<string, string>();
  const explicit = spec.guests.map((g) => g.nics.map((n, i) => claimExplicit(c, g, n.segment, n.address, i, segments, taken)));
  const guests: Guest[] = [];
  spec.guests.forEach((g, gi) => {
    const name = c.check(g.path, () => validateIdentifier(g.name, "guest"));
    if (name) claimName(name, g.path, "guest");
    if (!hostNames.has(g.host)) c.add(g.path, `guest '${g.name}' is placed on host '${g.host}', which is not in the lab; add it with lab.addHost('${g.host}').`);
    c.check(g.path, () => validateCompute(g.compute));
    const nics: Nic[] = [];
    g.nics.forEach((n, i) => {
      const seg = segments.get(n.segment);
      if (!seg) {
        if (!spec.segments.some((s) => s.name === n.segment)) {
          c.add(g.path, `NIC ${i} joins segment '${n.segment}', which is not in the lab; add it with lab.addSegment('${n.segment}', { cidr: ... }).`);
        }
        return;
      }
      const address = explicit[gi][i] ?? allocate(c, g, seg, taken);
      const mac = n.mac === undefined ? MacAddress.derive(`${spec.name}/${g.name}/${i}`) : c.check(g.path, () => MacAddress.parse(n.mac!));
      if (mac) {
        const other = macs.get(mac.toString());
        const fix = n.mac === undefined ? "derived MACs have 24 random bits and two collided: set mac on one of them" : "leave mac out to derive one";
        if (other) c.add(g.path, `MAC ${mac} of NIC ${i} is already used by ${other}; ${fix}.`);
        macs.set(mac.toString(), `${g.path} NIC ${i}`);
      }
      if (!address || !mac || !name) return;
      nics.push({
        index: i, segment: seg.name, address, prefixLength: seg.cidr.prefixLength, mac,
        guestDev: `eth${i}`, hostDev: kernelName(prefix, "t", `${name}-${i}`),
      });
    });
    if (!name) return;
    guests.push({
      name, path: g.path, host: g.host, compute: g.compute,
      netns: spec.backend.kind === "emulated" ? `${prefix}-${name}` : undefined, nics,
    });
  });
  return guests;
}

function claimExplicit(
  c: IssueCollector, g: GuestSpec, segName: string, text: string | undefined, nicIndex: number,
  segments: Map<string, Segment>, taken: Map<string, Map<string, string>>,
): IpAddress | undefined {
  const seg = segments.get(segName);
  if (text === undefined || !seg) return undefined;
  let ip: IpAddress;
  try {
    ip = IpAddress.parse(text);
  } catch {
    c.add(g.path, `address '${text}' of NIC ${nicIndex} is not an IP address; give a host address inside segment '${seg.name}' (${seg.cidr}) or leave address out.`);
    return undefined;
  }
  if (!seg.cidr.isUsableHost(ip)) {
    const why = seg.cidr.contains(ip) ? "is the network or broadcast address of" : "is outside";
    c.add(g.path, `address ${ip} of NIC ${nicIndex} ${why} segment '${seg.name}' (${seg.cidr}); pick a host address inside it or leave address out.`);
    return undefined;
  }
  const used = taken.get(seg.name) ?? new Map<string, string>();
  taken.set(seg.name, used);
  const other = used.get(ip.toString());
  if (other) {
    c.add(g.path, `address ${ip} of NIC ${nicIndex} is already used by ${other} on segment '${seg.name}'.`);
    return undefined;
  }
  used.set(ip.toString(), g.path);
  return ip;
}

function allocate(c: IssueCollector, g: GuestSpec, seg: Segment, taken: Map<string, Map<string, string>>): IpAddress | undefined {
  const used = taken.get(seg.name) ?? new Map<string, string>();
  taken.set(seg.name, used);
  const limit = seg.cidr.size < 1n << 20n ? seg.cidr.size : 1n << 20n;
  for (let n = FIRST_AUTO_HOST_OFFSET; n < limit; n++) {
    const ip = seg.cidr.addressAt(n);
    if (seg.cidr.isUsableHost(ip) && !used.has(ip.toString())) {
      used.set(ip.toString(), g.path);
      return ip;
    }
  }
  c.add(g.path, `segment '${seg.name}' (${seg.cidr}) has no free address left for guest '${g.name}'; use a larger subnet.`);
  return undefined;
}

function checkUnique(c: IssueCollector, entries: Array<[string, string]>, what: string): void {
  const seen = new Map<string, string>();
  for (const [value, path] of entries) {
    const other = seen.get(value);
    if (other) c.add(path, `${what} ${value} is already used by ${other}.`);
    else seen.set(value, path);
  }
}

/** Generated names are hashed when long; make sure no two collide on one host. */
function checkDeviceNames(c: IssueCollector, hosts: readonly Host[], segments: readonly Segment[], guests: readonly Guest[]): void {
  for (const h of hosts) {
    const names: Array<[string, string]> = [];
    for (const s of segments.filter((s) => s.hosts.includes(h.name))) names.push([s.bridge, s.path], [s.vxlan, s.path]);
    for (const g of guests.filter((g) => g.host === h.name)) for (const n of g.nics) names.push([n.hostDev, g.path]);
    for (const [n, path] of names) c.check(path, () => validateInterfaceName(n));
    checkUnique(c, names, `device name on host '${h.name}'`);
  }
}

function isDefined<T>(x: T | undefined): x is T {
  return x !== undefined;
}
