import { Cidr, IpAddress, PortSpec, kernelName, portText, suggestIdentifier, validateIdentifier } from "../net";
import { ResolveContext } from "./context";
import { clusterOf } from "./resolve-clusters";
import {
  DEFAULT_TENANT, GRE_OVERHEAD_IPV4, GRE_OVERHEAD_IPV6, Gateway, MIN_IPV4_MTU, Router, MIN_IPV6_MTU, Segment, VLAN_MAX, VLAN_MIN, VNI_MAX, VNI_MIN, VXLAN_OVERHEAD_IPV4,
  VXLAN_OVERHEAD_IPV6,
} from "./lab";
import { checkPort } from "./resolve-security";
import { SegmentSpec } from "./spec";

const FIRST_AUTO_VNI = 1000;
const FIRST_AUTO_VLAN = 100;

/** A segment before its hosts are known (they follow from the guests placed on it). */
export type DraftSegment = Omit<Segment, "gateway" | "hosts"> & { readonly hosts: readonly string[] };

export function resolveSegments(ctx: ResolveContext, hostNames: ReadonlySet<string>, family: 4 | 6): DraftSegment[] {
  const vnis = new IdAllocator(ctx, "VNI", VNI_MIN, VNI_MAX, FIRST_AUTO_VNI,
    "a VXLAN network identifier is 1-16,777,215", "give each segment its own VNI or leave it out to allocate one");
  const vlans = new IdAllocator(ctx, "VLAN", VLAN_MIN, VLAN_MAX, FIRST_AUTO_VLAN,
    "an 802.1Q VLAN id is 1-4,094", "give each segment its own VLAN id or leave it out to allocate one");
  const specs = ctx.spec.segments;
  for (const s of specs) {
    if (s.mode?.kind === "bridged" && (s.vni !== undefined || s.vlan !== undefined)) {
      ctx.issues.add(s.path, `segment '${s.name}' is bridged: the physical LAN joins its hosts, so it takes no ${s.vni !== undefined ? "VNI" : "VLAN id"}; remove it.`);
    } else if (kindOf(s) === "vxlan") {
      if (s.vlan !== undefined) ctx.issues.add(s.path, `segment '${s.name}' sets vlan ${s.vlan} but uses VXLAN; set segmentation: 'vlan' or remove vlan.`);
      vnis.reserve(s.vni, s.path);
    } else {
      if (s.vni !== undefined) ctx.issues.add(s.path, `segment '${s.name}' sets vni ${s.vni} but uses VLAN segmentation; remove vni.`);
      vlans.reserve(s.vlan, s.path);
    }
  }
  const seen = new Map<string, string>();
  const out: DraftSegment[] = [];
  for (const s of specs) {
    const { name, tenant } = segmentName(ctx, s);
    if (name && seen.has(name)) ctx.issues.add(s.path, `segment name '${name}' is already used by ${seen.get(name)}; give each segment its own name.`);
    if (name && !seen.has(name)) seen.set(name, s.path);
    const cidr = ctx.issues.check(s.path, () => Cidr.parse(s.cidr));
    const cidr6 = s.ipv6Cidr === undefined ? undefined : parseIpv6Cidr(ctx, s, cidr);
    for (const h of s.hosts ?? []) {
      if (!hostNames.has(h)) ctx.issues.add(s.path, `segment '${s.name}' spans host '${h}', which is not in the lab; add it with lab.addHost('${h}').`);
    }
    const mode = s.mode?.kind ?? "isolated";
    if ((mode === "nat" || mode === "routed") && cidr?.family === 6) {
      ctx.issues.add(s.path, `${mode} segment '${s.name}' has an IPv6 cidr (${cidr}): routers, NAT and routes are rendered for IPv4; give an IPv4 cidr and the IPv6 one as ipv6Cidr (dual stack), or make it isolated.`);
    }
    const kind = mode === "bridged" ? undefined : kindOf(s);
    // A cluster's network crosses hosts in the cluster's tunnels (VXLAN or GRE), not in a VXLAN device.
    const tunnel = kind === "vxlan" ? clusterOf(ctx, s)?.tunnel ?? "vxlan" : kind;
    const mtu = segmentMtu(ctx, s, family, cidr, cidr6, tunnel);
    const vni = kind === "vxlan" ? vnis.take(s.vni, s.path) : undefined;
    const vlan = kind === "vlan" ? vlans.take(s.vlan, s.path) : undefined;
    const hostAccess = resolveHostAccess(ctx, s, mode);
    if (!name || !tenant || !cidr || mtu === undefined || (s.ipv6Cidr !== undefined && !cidr6) || !hostAccess) continue;
    out.push({
      name, path: s.path, tenant, mode, cidr, cidr6, vni, vlan, mtu,
      bridge: kernelName(ctx.prefix, "b", name),
      overlayDev: kind === "vxlan" ? kernelName(ctx.prefix, "v", name) : kind === "vlan" ? kernelName(ctx.prefix, "q", name) : undefined,
      hosts: [...new Set(s.hosts ?? [])].filter((h) => hostNames.has(h)), hostAccess,
    });
  }
  checkRoutingDomain(ctx, out);
  return out;
}

const MAX_NAME = 32;

/**
 * A tenant network is named `<tenant>-<network>`: each part is checked at the construct the user
 * wrote (a bad tenant name once, at the tenant), and suggestions fit the combined limit.
 */
function segmentName(ctx: ResolveContext, s: SegmentSpec): { name?: string; tenant?: string } {
  const owner = s.tenant ?? DEFAULT_TENANT;
  if (!s.tenant || !s.name.startsWith(`${s.tenant}-`)) {
    return { name: ctx.issues.check(s.path, () => validateIdentifier(s.name, "segment")), tenant: ctx.issues.check(s.path, () => validateIdentifier(owner, "tenant")) };
  }
  const tenantPath = s.tenantPath ?? s.path.slice(0, s.path.lastIndexOf("/"));
  // A bad tenant name is reported once, for all of the tenant's networks.
  const reported = ctx.issues.issues.some((i) => i.path === tenantPath && i.message.startsWith("tenant name"));
  const tenant = reported ? undefined : ctx.issues.check(tenantPath, () => validateIdentifier(s.tenant, "tenant", MAX_NAME - 2));
  // The network's own name is checked all the same, against the tenant name it will have once fixed.
  const fixedTenant = tenant ?? (suggestIdentifier(s.tenant, MAX_NAME - 2) || s.tenant);
  const network = s.name.slice(s.tenant.length + 1);
  const max = MAX_NAME - fixedTenant.length - 1;
  const checked = ctx.issues.check(s.path, () => validateIdentifier(network, "network", max, ` (with tenant '${fixedTenant}' the name '${fixedTenant}-…' has at most ${MAX_NAME})`));
  return { name: checked === undefined || tenant === undefined ? undefined : `${tenant}-${checked}`, tenant };
}

/**
 * The ports of its gateway host a segment's guests may reach: only a segment with a router can
 * (the host routes for it), and only over IPv4 (the router's link to the host).
 */
function resolveHostAccess(ctx: ResolveContext, s: SegmentSpec, mode: string): readonly PortSpec[] | undefined {
  const ports = s.hostAccess ?? [];
  let ok = true;
  for (const p of ports) {
    const error = checkPort(p) ?? (p.protocol === "icmpv6" ? "guests reach their host over IPv4 (their router's link), so ICMPv6 cannot be allowed; use Port.allIcmp() or a TCP/UDP port." : undefined);
    if (error) {
      ctx.issues.add(s.path, `hostAccess ${portText(p)}: ${error}`);
      ok = false;
    }
  }
  if (ports.length > 0 && mode !== "nat" && mode !== "routed") {
    ctx.issues.add(s.path, `hostAccess (${ports.map(portText).join(", ")}) cannot be enforced on ${mode} segment '${s.name}': its guests have no router, so no route to their host; make it nat or routed, or remove hostAccess.`);
    ok = false;
  }
  return ok ? ports : undefined;
}

function kindOf(s: SegmentSpec): "vxlan" | "vlan" {
  return s.segmentation ?? "vxlan";
}

function parseIpv6Cidr(ctx: ResolveContext, s: SegmentSpec, cidr: Cidr | undefined): Cidr | undefined {
  const cidr6 = ctx.issues.check(s.path, () => Cidr.parse(s.ipv6Cidr!));
  if (!cidr6) return undefined;
  if (cidr6.family !== 6) {
    ctx.issues.add(s.path, `ipv6Cidr '${s.ipv6Cidr}' is not an IPv6 subnet; give one such as 'fd00:10::/64'.`);
    return undefined;
  }
  if (cidr && cidr.family !== 4) {
    ctx.issues.add(s.path, `segment '${s.name}' already has an IPv6 cidr (${cidr}); ipv6Cidr is for dual stack next to an IPv4 cidr.`);
    return undefined;
  }
  return cidr6;
}

function segmentMtu(ctx: ResolveContext, s: SegmentSpec, family: 4 | 6, cidr?: Cidr, cidr6?: Cidr, kind?: "vxlan" | "gre" | "vlan"): number | undefined {
  const underlayMtu = s.underlayMtu ?? 1500;
  if (!Number.isInteger(underlayMtu) || underlayMtu < MIN_IPV4_MTU || underlayMtu > 65535) {
    ctx.issues.add(s.path, `underlayMtu ${underlayMtu} is out of range ${MIN_IPV4_MTU}-65535.`);
    return undefined;
  }
  // An 802.1Q tag travels in the Ethernet header: the IP MTU stays that of the uplink.
  const overhead = kind === "vxlan" ? (family === 6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4)
    : kind === "gre" ? (family === 6 ? GRE_OVERHEAD_IPV6 : GRE_OVERHEAD_IPV4) : 0;
  const mtu = underlayMtu - overhead;
  const v6 = cidr?.family === 6 || cidr6 !== undefined;
  const needed = v6 ? MIN_IPV6_MTU : MIN_IPV4_MTU;
  if (mtu < needed) {
    const why = overhead > 0 ? `after ${kind === "gre" ? "GRE" : "VXLAN"} encapsulation (${underlayMtu} - ${overhead})` : "of the underlay";
    ctx.issues.add(s.path, `MTU ${mtu} ${why} is below ${needed}, the minimum for IPv${v6 ? 6 : 4}; raise underlayMtu to at least ${needed + overhead}.`);
    return undefined;
  }
  return mtu;
}

/**
 * Segments with a gateway or on the physical LAN (nat, routed, bridged) share the lab's routing
 * domain: their subnets must not overlap each other or the fabric. Isolated ones may overlap freely.
 */
function checkRoutingDomain(ctx: ResolveContext, segments: readonly DraftSegment[]): void {
  const routed = segments.filter((s) => s.mode !== "isolated");
  routed.forEach((s, i) => {
    for (const other of routed.slice(0, i)) {
      for (const [a, b] of [[s.cidr, other.cidr], [s.cidr6, other.cidr6]] as const) {
        if (a && b && a.overlaps(b)) {
          ctx.issues.add(s.path, `subnet ${a} of ${s.mode} segment '${s.name}' overlaps ${b} of ${other.mode} segment '${other.name}': they share the lab's routing domain; choose a disjoint subnet or make one isolated.`);
        }
      }
    }
    if (ctx.fabric && s.mode !== "bridged" && s.cidr.overlaps(ctx.fabric)) {
      ctx.issues.add(s.path, `subnet ${s.cidr} of segment '${s.name}' overlaps the fabric ${ctx.fabric}; choose another subnet or another fabricCidr.`);
    }
  });
  const bridgedByHost = new Map<string, string>();
  for (const s of segments.filter((x) => x.mode === "bridged")) {
    for (const h of s.hosts) {
      const other = bridgedByHost.get(h);
      if (other) ctx.issues.add(s.path, `host '${h}' already bridges segment '${other}' onto its LAN port; a port joins one bridge only: make '${s.name}' nat, routed or isolated.`);
      else bridgedByHost.set(h, s.name);
    }
  }
}

/** The gateway address of a nat or routed segment: the given one, or the subnet's first address. */
export function gatewayAddress(ctx: ResolveContext, s: SegmentSpec, draft: DraftSegment): IpAddress | undefined {
  const mode = s.mode;
  if (!mode || (mode.kind !== "nat" && mode.kind !== "routed")) return undefined;
  if (mode.gateway === undefined) return draft.cidr.addressAt(1);
  const address = ctx.issues.check(s.path, () => IpAddress.parse(mode.gateway!));
  if (address && !draft.cidr.isUsableHost(address)) {
    ctx.issues.add(s.path, `gateway ${address} is outside subnet ${draft.cidr} of segment '${s.name}' (or is its network or broadcast address); pick a host address inside it, e.g. ${draft.cidr.addressAt(1)}.`);
    return undefined;
  }
  return address;
}

/** The gateway of a nat or routed segment, once the segment's hosts are known. */
export function resolveGateway(
  ctx: ResolveContext, s: SegmentSpec, draft: DraftSegment, address: IpAddress | undefined, index: number,
): Gateway | undefined {
  const mode = s.mode;
  if (!mode || (mode.kind !== "nat" && mode.kind !== "routed")) return undefined;
  const host = mode.gatewayHost ?? draft.hosts[0];
  if (host === undefined) {
    ctx.issues.add(s.path, `${mode.kind} segment '${s.name}' spans no host, so its gateway has nowhere to live; place a guest on it or give hosts.`);
    return undefined;
  }
  if (!draft.hosts.includes(host)) {
    ctx.issues.add(s.path, `gatewayHost '${host}' is not a host of segment '${s.name}' (${draft.hosts.join(", ") || "none"}); pick one of them.`);
    return undefined;
  }
  const router = routerFor(ctx, draft, index, host);
  if (!address || !router) return undefined;
  return { host, address, address6: draft.cidr6?.addressAt(1), router };
}

/** Link-local /30s for the host-router links, one per gateway segment (16,384 of them). */
const ROUTER_LINKS = Cidr.parse("169.254.0.0/16");

/** 169.254.0.0/16 holds 16,384 router links of 4 addresses. */
const MAX_ROUTERS = 16_384;

function routerFor(ctx: ResolveContext, draft: DraftSegment, index: number, host: string): Router | undefined {
  if (index >= MAX_ROUTERS) {
    ctx.issues.add(draft.path, `segment '${draft.name}' would be router number ${index + 1}, but a lab has room for ${MAX_ROUTERS.toLocaleString("en")} routers; make some segments isolated.`);
    return undefined;
  }
  return {
    // A '.' cannot occur in node names, so this never collides with a guest's namespace. Emulated
    // hosts share the machine's namespaces: a router that moves to another host gets a new one.
    netns: ctx.emulated ? `${ctx.prefix}-rt.${draft.name}.${host}` : `${ctx.prefix}-rt.${draft.name}`,
    bridgePort: kernelName(ctx.prefix, "r", draft.name),
    hostLink: kernelName(ctx.prefix, "x", draft.name),
    hostLinkAddress: ROUTER_LINKS.addressAt(index * 4 + 1),
    routerLinkAddress: ROUTER_LINKS.addressAt(index * 4 + 2),
  };
}

/** Explicit ids are reserved first, then the missing ones are allocated from `first` upwards. */
class IdAllocator {
  private readonly used = new Map<number, string>();
  private next: number;
  private wrapped = false;

  constructor(
    private readonly ctx: ResolveContext, private readonly what: string, private readonly min: number,
    private readonly max: number, first: number, private readonly rangeText: string, private readonly fix: string,
  ) {
    this.next = first;
  }

  reserve(id: number | undefined, path: string): void {
    if (id === undefined) return;
    if (!Number.isInteger(id) || id < this.min || id > this.max) {
      const hint = this.what === "VLAN" ? "; for more tenants use segmentation 'vxlan' (16,777,215 ids)" : "";
      this.ctx.issues.add(path, `${this.what} ${id} is out of range: ${this.rangeText}${hint}.`);
    } else if (this.used.has(id)) {
      this.ctx.issues.add(path, `${this.what} ${id} is already used by ${this.used.get(id)}; ${this.fix}.`);
    } else {
      this.used.set(id, path);
    }
  }

  /** The explicit id (already reserved), or the next free one (wrapping once to the minimum). */
  take(explicit: number | undefined, path: string): number | undefined {
    if (explicit !== undefined) return explicit;
    while (this.used.has(this.next)) this.next++;
    if (this.next > this.max && !this.wrapped) {
      this.wrapped = true;
      this.next = this.min;
      while (this.used.has(this.next)) this.next++;
    }
    if (this.next > this.max) {
      const hint = this.what === "VLAN" ? " (4,094 VLANs at most); use segmentation 'vxlan' for more tenants" : "";
      this.ctx.issues.add(path, `no ${this.what} left to allocate${hint}.`);
      return undefined;
    }
    this.used.set(this.next, path);
    return this.next++;
  }
}

