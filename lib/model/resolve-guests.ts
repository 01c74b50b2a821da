import { IpAddress, MacAddress, isPortNumber, kernelName, validateIdentifier } from "../net";
import { AddressPool } from "./address-pool";
import { ResolveContext, isDefined } from "./context";
import { Guest, Host, Nic } from "./lab";
import { DraftSegment } from "./resolve-segments";
import { ContainerNetworkMode, GuestSpec, InterceptSpec, NicSpec } from "./spec";
import { validateCompute } from "./validate-parts";

/** Address pools of one segment: IPv4 (or its only family) and, for dual stack, IPv6. */
export interface SegmentPools {
  readonly v4: AddressPool;
  readonly v6?: AddressPool;
}

export function resolveGuests(
  ctx: ResolveContext, hosts: readonly Host[], segments: ReadonlyMap<string, DraftSegment>, pools: ReadonlyMap<string, SegmentPools>,
): Guest[] {
  const specs = ctx.spec.guests;
  const hostByName = new Map(hosts.map((h) => [h.name, h]));
  // Explicit addresses first, so allocation never hands out one that a later guest asked for.
  const explicit = specs.map((g) => g.nics.map((n, i) => claimExplicit(ctx, g, n, i, segments, pools)));
  // Explicit MACs first, so a derived one steps around them.
  const macs = new Map<string, string>();
  for (const g of specs) {
    g.nics.forEach((n, i) => {
      if (n.mac === undefined) return;
      try {
        const mac = MacAddress.parse(n.mac).toString();
        if (!macs.has(mac)) macs.set(mac, `${g.path} NIC ${i}`);
      } catch {
        // reported where the NIC is resolved
      }
    });
  }
  const guests = specs.map((g, gi) => {
    const name = ctx.issues.check(g.path, () => validateIdentifier(g.name, "guest"));
    if (name) ctx.claimNodeName(name, g.path, "guest");
    const host = hostByName.get(g.host);
    if (!ctx.spec.hosts.some((h) => h.name === g.host)) {
      ctx.issues.add(g.path, `guest '${g.name}' is placed on host '${g.host}', which is not in the lab; add it with lab.addHost('${g.host}').`);
    }
    ctx.issues.check(g.path, () => validateCompute(g.compute));
    checkNetworkMode(ctx, g);
    const intercept = g.intercept && checkIntercept(ctx, g, g.intercept);
    const nics = g.nics.map((n, i) => resolveNic(ctx, g, n, i, explicit[gi][i], segments, pools, macs)).filter(isDefined);
    if (!name || nics.length !== g.nics.length) return undefined;
    // On a real host, a namespace guest's namespace is marked `-g.` (as routers' are `-rt.`), so the
    // lab prunes only namespaces it names, never another tool's that shares the prefix.
    const ownNetns = g.compute.kind === "namespace" && !ctx.emulated;
    const netns = ctx.emulated ? guestNetns(ctx, g, host) : ownNetns ? realGuestNetns(ctx.prefix, name) : undefined;
    return {
      name, path: g.path, host: g.host, compute: g.compute, nics, intercept,
      netns, ownsNetns: ownNetns || (ctx.emulated && networkModeOf(g).kind !== "host" && networkModeOf(g).kind !== "container"),
    };
  }).filter(isDefined);
  return guests;
}

function networkModeOf(g: GuestSpec): ContainerNetworkMode {
  return g.compute.kind === "container" ? g.compute.container.networkMode ?? { kind: "bridge" } : { kind: "bridge" };
}

/** Docker's host, none and container modes bring no NICs of their own; container mode needs a peer on the same host. */
function checkNetworkMode(ctx: ResolveContext, g: GuestSpec): void {
  const mode = networkModeOf(g);
  if (mode.kind === "bridge") return;
  if (g.nics.length > 0) {
    ctx.issues.add(g.path, `guest '${g.name}' uses network mode '${mode.kind}', which has no NICs of its own; remove nics or use bridge mode.`);
  }
  if (mode.kind !== "container") return;
  const chain = new Set([g.name]);
  let cur: GuestSpec | undefined = g;
  while (cur && networkModeOf(cur).kind === "container") {
    const target: string = (networkModeOf(cur) as { guest: string }).guest;
    const peer = ctx.spec.guests.find((x) => x.name === target);
    if (!peer) {
      ctx.issues.add(g.path, `guest '${g.name}' shares the network of '${target}', which is not a guest of the lab; add it or pick another guest.`);
      return;
    }
    if (peer.host !== g.host) {
      ctx.issues.add(g.path, `guest '${g.name}' on host '${g.host}' shares the network of '${target}' on host '${peer.host}'; a shared namespace lives on one host: place both on the same host.`);
      return;
    }
    if (chain.has(peer.name)) {
      ctx.issues.add(g.path, `guest '${g.name}' shares its network in a cycle (${[...chain, peer.name].join(" -> ")}); one of them needs its own network.`);
      return;
    }
    chain.add(peer.name);
    cur = peer;
  }
}

/** A namespace guest's namespace on a real host. */
export function realGuestNetns(prefix: string, guest: string): string {
  return `${prefix}-g.${guest}`;
}

/** The namespace an emulated guest runs in, following container-mode sharing to its owner. */
function guestNetns(ctx: ResolveContext, g: GuestSpec, host: Host | undefined): string | undefined {
  let cur: GuestSpec | undefined = g;
  for (let hops = 0; cur && hops <= ctx.spec.guests.length; hops++) {
    const mode = networkModeOf(cur);
    if (mode.kind === "host") return host?.netns;
    if (mode.kind !== "container") return `${ctx.prefix}-${cur.name}`;
    cur = ctx.spec.guests.find((x) => x.name === mode.guest);
  }
  return undefined;
}

function checkIntercept(ctx: ResolveContext, g: GuestSpec, i: InterceptSpec): InterceptSpec | undefined {
  const ports = [i.outboundPort, i.inboundPort].filter(isDefined);
  let ok = true;
  if (!ctx.emulated) {
    ctx.issues.add(g.path, `interception of guest '${g.name}' is rendered for emulated guests only: on real hosts the rules belong inside the VM or container (e.g. an init container); remove intercept.`);
    ok = false;
  }
  if (ports.length === 0) {
    ctx.issues.add(g.path, `intercept of guest '${g.name}' names no port; give outboundPort, inboundPort or both.`);
    ok = false;
  }
  for (const p of ports) {
    if (!isPortNumber(p)) {
      ctx.issues.add(g.path, `intercept port ${p} of guest '${g.name}' is out of range 1-65535.`);
      ok = false;
    }
  }
  if (!Number.isInteger(i.proxyUid) || i.proxyUid < 0 || i.proxyUid > 4294967294) {
    ctx.issues.add(g.path, `proxyUid ${i.proxyUid} of guest '${g.name}' is not a uid (0-4294967294).`);
    ok = false;
  }
  const mode = networkModeOf(g).kind;
  if (mode === "host" || mode === "container") {
    ctx.issues.add(g.path, `guest '${g.name}' shares another namespace (mode '${mode}'); intercept on the namespace's owner instead.`);
    ok = false;
  }
  return ok ? i : undefined;
}

interface Claimed {
  readonly v4?: IpAddress;
  readonly v6?: IpAddress;
}

function claimExplicit(
  ctx: ResolveContext, g: GuestSpec, n: NicSpec, nicIndex: number, segments: ReadonlyMap<string, DraftSegment>,
  pools: ReadonlyMap<string, SegmentPools>,
): Claimed {
  const seg = segments.get(n.segment);
  const pool = pools.get(n.segment);
  if (!seg || !pool) return {};
  const v4 = n.address === undefined ? undefined : claimOne(ctx, g, n.address, nicIndex, seg.name, pool.v4, "address");
  let v6: IpAddress | undefined;
  if (n.address6 !== undefined) {
    if (!pool.v6) {
      ctx.issues.add(g.path, `NIC ${nicIndex} sets address6 but segment '${seg.name}' has no ipv6Cidr; add ipv6Cidr to the segment or remove address6.`);
    } else {
      v6 = claimOne(ctx, g, n.address6, nicIndex, seg.name, pool.v6, "address6");
    }
  }
  return { v4, v6 };
}

function claimOne(ctx: ResolveContext, g: GuestSpec, text: string, nicIndex: number, segName: string, pool: AddressPool, field: string): IpAddress | undefined {
  let ip: IpAddress;
  try {
    ip = IpAddress.parse(text);
  } catch {
    ctx.issues.add(g.path, `${field} '${text}' of NIC ${nicIndex} is not an IP address; give a host address inside segment '${segName}' (${pool.cidr}) or leave ${field} out.`);
    return undefined;
  }
  if (!pool.cidr.isUsableHost(ip)) {
    const why = pool.cidr.contains(ip) ? "is the network or broadcast address of" : "is outside";
    ctx.issues.add(g.path, `${field} ${ip} of NIC ${nicIndex} ${why} segment '${segName}' (${pool.cidr}); pick a host address inside it or leave ${field} out.`);
    return undefined;
  }
  const other = pool.holder(ip);
  if (other) {
    ctx.issues.add(g.path, `${field} ${ip} of NIC ${nicIndex} is already used by ${other} on segment '${segName}'.`);
    return undefined;
  }
  pool.claim(ip, g.path);
  return ip;
}

function resolveNic(
  ctx: ResolveContext, g: GuestSpec, n: NicSpec, i: number, claimed: Claimed, segments: ReadonlyMap<string, DraftSegment>,
  pools: ReadonlyMap<string, SegmentPools>, macs: Map<string, string>,
): Nic | undefined {
  const seg = segments.get(n.segment);
  const pool = pools.get(n.segment);
  if (!seg || !pool) {
    if (!ctx.spec.segments.some((s) => s.name === n.segment)) {
      ctx.issues.add(g.path, `NIC ${i} joins segment '${n.segment}', which is not in the lab; add it with lab.addSegment('${n.segment}', { cidr: ... }).`);
    }
    return undefined;
  }
  const address = n.address === undefined ? allocate(ctx, g, seg.name, pool.v4) : claimed.v4;
  const address6 = pool.v6 ? (n.address6 === undefined ? allocate(ctx, g, seg.name, pool.v6) : claimed.v6) : undefined;
  const mac = n.mac === undefined ? deriveFreeMac(`${ctx.spec.name}/${g.name}/${i}`, macs) : ctx.issues.check(g.path, () => MacAddress.parse(n.mac!));
  if (mac) {
    const label = `${g.path} NIC ${i}`;
    const other = macs.get(mac.toString());
    if (other && other !== label) ctx.issues.add(g.path, `MAC ${mac} of NIC ${i} is already used by ${other}; leave mac out to derive one.`);
    else macs.set(mac.toString(), label);
  }
  const floatingIp = n.floatingIp === undefined ? undefined : ctx.issues.check(g.path, () => IpAddress.parse(n.floatingIp!));
  if (n.floatingIp !== undefined && seg.mode !== "nat") {
    ctx.issues.add(g.path, `NIC ${i} has floating IP ${n.floatingIp} on ${seg.mode} segment '${seg.name}'; floating IPs need a nat segment (its gateway does the 1:1 NAT).`);
  }
  if (!address || !mac || (pool.v6 && !address6) || (n.floatingIp !== undefined && !floatingIp)) return undefined;
  return {
    index: i, segment: seg.name, address, prefixLength: seg.cidr.prefixLength,
    address6, prefixLength6: address6 ? pool.v6!.cidr.prefixLength : undefined,
    floatingIp, mac, guestDev: `eth${i}`, hostDev: kernelName(ctx.prefix, "t", `${g.name}-${i}`),
    securityGroups: [...new Set(g.securityGroups ?? [])],
  };
}

/**
 * A stable MAC for a NIC: derived from its name, and on the rare collision (24 bits: a lab of
 * 10,000 NICs expects about 3) from the name and a counter, so every NIC keeps the same MAC
 * across synths as long as the NICs before it stay.
 */
function deriveFreeMac(seed: string, taken: ReadonlyMap<string, string>): MacAddress {
  for (let n = 0; ; n++) {
    const mac = MacAddress.derive(n === 0 ? seed : `${seed}#${n}`);
    if (!taken.has(mac.toString())) return mac;
  }
}

function allocate(ctx: ResolveContext, g: GuestSpec, segName: string, pool: AddressPool): IpAddress | undefined {
  const ip = pool.allocate(g.path);
  if (!ip) ctx.issues.add(g.path, `segment '${segName}' (${pool.cidr}) has no free address left for guest '${g.name}'; use a larger subnet.`);
  return ip;
}
