import { IpAddress, isPortNumber, validateIdentifier } from "../net";
import { ResolveContext, isDefined } from "./context";
import { External, Guest, Host, PortForward, Segment, Service } from "./lab";
import { PortForwardSpec, ServiceSpec } from "./spec";

function portIssue(ctx: ResolveContext, path: string, what: string, port: unknown): boolean {
  if (isPortNumber(port)) return false;
  ctx.issues.add(path, `${what} ${String(port)} is out of range: a port is 1-65535.`);
  return true;
}

/** Floating IPs: unique, IPv4, and (emulated) inside the fabric without taking a node's address. */
export function checkFloatingIps(ctx: ResolveContext, guests: readonly Guest[], hosts: readonly Host[], externals: readonly External[]): void {
  const used = new Map<string, string>();
  for (const h of hosts) used.set(h.underlay.toString(), `host ${h.name}`);
  for (const e of externals) used.set(e.address.toString(), `external ${e.name}`);
  for (const g of guests) {
    for (const n of g.nics) {
      if (!n.floatingIp) continue;
      const ip = n.floatingIp;
      if (ip.family !== 4) {
        ctx.issues.add(g.path, `floating IP ${ip} of NIC ${n.index} must be IPv4 (IPv6 needs no NAT: route the subnet instead).`);
      } else if (ctx.fabric && !ctx.fabric.isUsableHost(ip)) {
        ctx.issues.add(g.path, `floating IP ${ip} of NIC ${n.index} is outside the fabric ${ctx.fabric}, the external network of an emulated lab; pick an address inside it.`);
      } else if (used.has(ip.toString())) {
        ctx.issues.add(g.path, `floating IP ${ip} of NIC ${n.index} is already used by ${used.get(ip.toString())}; pick a free address.`);
      } else {
        used.set(ip.toString(), g.path);
      }
    }
  }
}

/** The address of `guest`'s NIC on `segment`, or an issue. */
function nicAddress(ctx: ResolveContext, path: string, guests: readonly Guest[], guest: string, segment: string): IpAddress | undefined {
  const g = guests.find((x) => x.name === guest);
  if (!g) {
    if (!ctx.spec.guests.some((x) => x.name === guest)) ctx.issues.add(path, `guest '${guest}' is not in the lab; add it with lab.addGuest('${guest}', ...).`);
    return undefined;
  }
  const nic = g.nics.find((n) => n.segment === segment);
  if (!nic) {
    ctx.issues.add(path, `guest '${guest}' has no NIC on segment '${segment}'; add one or pick a guest of that segment.`);
    return undefined;
  }
  if (nic.address.family !== 4) {
    ctx.issues.add(path, `guest '${guest}' has no IPv4 address on segment '${segment}' (${nic.address}); port forwards and services are IPv4 only.`);
    return undefined;
  }
  return nic.address;
}

function protocolIssue(ctx: ResolveContext, path: string, protocol: unknown): boolean {
  if (protocol === "tcp" || protocol === "udp") return false;
  ctx.issues.add(path, `protocol '${String(protocol)}' is not supported here: use 'tcp' or 'udp'.`);
  return true;
}

function gatewaySegment(ctx: ResolveContext, path: string, segments: ReadonlyMap<string, Segment>, name: string, modes: readonly string[], what: string): Segment | undefined {
  const seg = segments.get(name);
  if (!seg) {
    if (!ctx.spec.segments.some((s) => s.name === name)) ctx.issues.add(path, `segment '${name}' is not in the lab.`);
    return undefined;
  }
  if (!modes.includes(seg.mode) || !seg.gateway) {
    ctx.issues.add(path, `${what} needs a ${modes.join(" or ")} segment (its gateway host applies the NAT), but '${name}' is ${seg.mode}.`);
    return undefined;
  }
  return seg;
}

export function resolvePortForwards(ctx: ResolveContext, segments: ReadonlyMap<string, Segment>, guests: readonly Guest[]): PortForward[] {
  return (ctx.spec.portForwards ?? []).map((f: PortForwardSpec) => {
    const seg = gatewaySegment(ctx, f.path, segments, f.segment, ["nat"], "a port forward");
    const bad = protocolIssue(ctx, f.path, f.protocol) || portIssue(ctx, f.path, "host port", f.hostPort) || portIssue(ctx, f.path, "guest port", f.port);
    const to = nicAddress(ctx, f.path, guests, f.guest, f.segment);
    if (!seg || bad || !to) return undefined;
    return { path: f.path, segment: seg.name, protocol: f.protocol, hostPort: f.hostPort, guest: f.guest, to, port: f.port };
  }).filter(isDefined);
}

export function resolveServices(ctx: ResolveContext, segments: ReadonlyMap<string, Segment>, guests: readonly Guest[]): Service[] {
  const allSubnets = [...segments.values()].flatMap((s) => [s.cidr, s.cidr6]).filter(isDefined);
  return (ctx.spec.services ?? []).map((s: ServiceSpec) => {
    const name = ctx.issues.check(s.path, () => validateIdentifier(s.name, "service"));
    const seg = gatewaySegment(ctx, s.path, segments, s.segment, ["nat", "routed"], `service '${s.name}'`);
    let bad = protocolIssue(ctx, s.path, s.protocol) || portIssue(ctx, s.path, "service port", s.port);
    if (s.nodePort !== undefined) bad = portIssue(ctx, s.path, "nodePort", s.nodePort) || bad;
    const vip = ctx.issues.check(s.path, () => IpAddress.parse(s.vip));
    if (vip && vip.family !== 4) {
      ctx.issues.add(s.path, `service VIP ${vip} must be IPv4 (the statistic-match DNAT chain is rendered for iptables).`);
      bad = true;
    }
    const inside = vip && allSubnets.find((c) => c.contains(vip));
    if (inside || (vip && ctx.fabric?.contains(vip))) {
      ctx.issues.add(s.path, `service VIP ${vip} is inside ${inside ?? ctx.fabric}; a VIP is virtual: pick one outside every subnet of the lab, e.g. from 10.96.0.0/16.`);
      bad = true;
    }
    if (s.backends.length === 0) {
      ctx.issues.add(s.path, `service '${s.name}' has no backends; add at least one with { guest, port }.`);
      bad = true;
    }
    const backends = !segments.has(s.segment) ? [] : s.backends.map((b, i) => {
      const weight = b.weight ?? 1;
      if (!(typeof weight === "number" && Number.isFinite(weight) && weight > 0)) {
        ctx.issues.add(s.path, `weight ${String(weight)} of backend ${i} ('${b.guest}') must be a positive number; remove the backend instead of giving it weight 0.`);
        return undefined;
      }
      if (portIssue(ctx, s.path, `port of backend ${i} ('${b.guest}')`, b.port)) return undefined;
      const address = nicAddress(ctx, s.path, guests, b.guest, s.segment);
      return address ? { guest: b.guest, address, port: b.port, weight } : undefined;
    });
    if (!name || !seg || !vip || bad || backends.some((b) => !b)) return undefined;
    return {
      name, path: s.path, segment: seg.name, protocol: s.protocol, vip, port: s.port, nodePort: s.nodePort,
      backends: backends.filter(isDefined),
    };
  }).filter(isDefined);
}

/** Host ports (port forwards, node ports) must be unique per gateway host and protocol; VIP:ports unique. */
export function checkPortClashes(ctx: ResolveContext, segments: ReadonlyMap<string, Segment>, forwards: readonly PortForward[], services: readonly Service[]): void {
  const hostPorts = new Map<string, string>();
  const claim = (key: string, path: string, text: string) => {
    const other = hostPorts.get(key);
    if (other) ctx.issues.add(path, `${text} is already used by ${other}; pick another port.`);
    else hostPorts.set(key, path);
  };
  for (const f of forwards) {
    const host = segments.get(f.segment)!.gateway!.host;
    claim(`${host}/${f.protocol}/${f.hostPort}`, f.path, `${f.protocol} port ${f.hostPort} on host '${host}'`);
  }
  for (const s of services) {
    claim(`vip/${s.protocol}/${s.vip}/${s.port}`, s.path, `${s.protocol} ${s.vip}:${s.port}`);
    if (s.nodePort !== undefined) {
      const host = segments.get(s.segment)!.gateway!.host;
      claim(`${host}/${s.protocol}/${s.nodePort}`, s.path, `${s.protocol} port ${s.nodePort} on host '${host}'`);
    }
  }
}
