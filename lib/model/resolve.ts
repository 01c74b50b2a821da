import { IpAddress, validateIdentifier, validateInterfaceName } from "../net";
import { AddressPool } from "./address-pool";
import { ResolveContext, checkUnique } from "./context";
import { Issue } from "./issues";
import { Guest, Host, OverlayCluster, ResolvedLab, Segment } from "./lab";
import { resolvePodNetworks } from "./resolve-pods";
import { resolveQos } from "./resolve-qos";
import { checkClusterGuests, clusterSegments, resolveClusters, tunnelEndpointCount, withClusters } from "./resolve-clusters";
import { parseFabric, resolveExternals, resolveHosts } from "./resolve-hosts";
import { SegmentPools, resolveGuests } from "./resolve-guests";
import { DraftSegment, gatewayAddress, resolveGateway, resolveSegments } from "./resolve-segments";
import { resolveSecurityGroups } from "./resolve-security";
import { checkFloatingIps, checkPortClashes, resolvePortForwards, resolveServices } from "./resolve-services";
import { LabSpec } from "./spec";

const PREFIX_RE = /^[a-z][a-z0-9]{0,5}$/;

export interface Resolution {
  /** Present only when there are no issues. */
  readonly lab?: ResolvedLab;
  readonly issues: readonly Issue[];
  /** Things that are legal but probably not meant (e.g. a rule whose peer group is empty). */
  readonly warnings: readonly Issue[];
}

/** The prefix a lab's kernel objects carry: the given one, or the name's first 6 letters and digits. */
export function labPrefix(spec: Pick<LabSpec, "name" | "prefix">): string {
  return spec.prefix ?? String(spec.name).replace(/[^a-z0-9]/g, "").slice(0, 6);
}

/** Validates a lab spec and allocates what was left open. Never throws on bad input. */
export function resolveLab(spec: LabSpec): Resolution {
  const prefix = labPrefix(spec);
  const probe = new ResolveContext(spec, prefix, undefined);
  const name = probe.issues.check(spec.path, () => validateIdentifier(spec.name, "lab"));
  if (!PREFIX_RE.test(prefix)) {
    probe.issues.add(spec.path, `prefix '${prefix}' is invalid: use 1-6 characters of a-z and 0-9, starting with a letter, e.g. 'lab1'.`);
  }
  // Emulated cluster hosts take a second fabric address each: their tunnels' endpoint.
  const nodeCount = spec.hosts.length + (spec.externals?.length ?? 0) + tunnelEndpointCount(spec.clusters);
  const fabric = spec.backend.kind === "emulated"
    ? probe.issues.check(spec.path, () => parseFabric(spec.backend.kind === "emulated" ? spec.backend.fabricCidr : "", nodeCount))
    : undefined;
  const ctx = new ResolveContext(spec, prefix, fabric);
  ctx.issues.issues.push(...probe.issues.issues);

  const hostNames = new Set(spec.hosts.map((h) => h.name));
  const clusters = resolveClusters(ctx, hostNames);
  const hosts = withClusters(ctx, resolveHosts(ctx), clusters);
  const externals = resolveExternals(ctx);
  const family = hosts.some((h) => h.underlay.family === 6) ? 6 : 4;
  const drafts = resolveSegments(ctx, hostNames, family);
  const draftByName = new Map(drafts.map((d) => [d.name, d]));
  const specByName = new Map(spec.segments.map((s) => [s.name, s]));

  const fabricNodes: Array<[IpAddress, string]> = [
    ...hosts.filter((h) => h.netns).map((h): [IpAddress, string] => [h.underlay, `host ${h.name}`]),
    ...hosts.flatMap((h): Array<[IpAddress, string]> => (h.tunnelEndpoint ? [[h.tunnelEndpoint.address, `the tunnel endpoint of host ${h.name}`]] : [])),
    ...externals.map((e): [IpAddress, string] => [e.address, `external ${e.name}`]),
  ];
  // Gateway addresses are taken before any guest address is allocated.
  const gatewayAddresses = new Map(drafts.map((d) => [d.name, gatewayAddress(ctx, specByName.get(d.name)!, d)]));
  const pools = new Map<string, SegmentPools>(drafts.map((d) => {
    const v4 = new AddressPool(d.cidr);
    const v6 = d.cidr6 ? new AddressPool(d.cidr6) : undefined;
    const gw = gatewayAddresses.get(d.name);
    if (gw) v4.claim(gw, `the gateway of segment '${d.name}'`);
    if (gw && v6) v6.claim(d.cidr6!.addressAt(1), `the gateway of segment '${d.name}'`);
    // An emulated bridged segment shares L2 with the fabric: its nodes' addresses are taken there.
    if (d.mode === "bridged") for (const [ip, who] of fabricNodes) if (d.cidr.contains(ip)) v4.claim(ip, who);
    return [d.name, { v4, v6 }];
  }));
  const guests = resolveGuests(ctx, hosts, draftByName, pools);

  const segments = clusterSegments(ctx, finishSegments(ctx, drafts, gatewayAddresses), clusters);
  const segmentByName = new Map(segments.map((s) => [s.name, s]));
  checkClusterGuests(ctx, guests, segmentByName);
  const finalHosts = withLanPorts(ctx, hosts, segments);
  checkFloatingIps(ctx, guests, finalHosts, externals);
  const portForwards = resolvePortForwards(ctx, segmentByName, guests);
  const services = resolveServices(ctx, segmentByName, guests);
  checkPortClashes(ctx, segmentByName, portForwards, services);
  checkDeviceNames(ctx, finalHosts, segments, guests, clusters);
  const warnings: Issue[] = [];
  const securityGroups = resolveSecurityGroups(ctx, guests, warnings);
  const qosPolicies = resolveQos(ctx, finalHosts, guests, segments, warnings);
  const segmentVnis = new Map(segments.filter((s) => s.vni !== undefined).map((s) => [s.vni!, `'${s.name}' (${s.path})`]));
  const podNetworks = resolvePodNetworks(ctx, finalHosts, segments, segmentVnis);

  if (ctx.issues.issues.length > 0 || !name) return { issues: ctx.issues.issues, warnings };
  const lab: ResolvedLab = {
    name, path: spec.path, prefix, backend: spec.backend,
    fabric: fabric ? { netns: `${prefix}-fabric`, cidr: fabric } : undefined,
    hosts: finalHosts, segments, guests, externals, portForwards, services, securityGroups, clusters, qosPolicies, podNetworks,
  };
  return { lab, issues: [], warnings };
}

/** A segment spans the hosts it names and those of its guests; then its gateway can be placed. */
function finishSegments(
  ctx: ResolveContext, drafts: readonly DraftSegment[],
  gatewayAddresses: ReadonlyMap<string, ReturnType<typeof gatewayAddress>>,
): Segment[] {
  const spans = new Map(drafts.map((s) => [s.name, new Set(s.hosts)]));
  const hostNames = new Set(ctx.spec.hosts.map((h) => h.name));
  // From the specs, not the resolved guests: a guest rejected for another reason still places its segment.
  for (const g of ctx.spec.guests) for (const n of g.nics) if (hostNames.has(g.host)) spans.get(n.segment)?.add(g.host);
  return drafts.map((d, index) => {
    const draft = { ...d, hosts: [...spans.get(d.name)!].sort() };
    const spec = ctx.spec.segments.find((s) => s.name === d.name)!;
    return { ...draft, gateway: resolveGateway(ctx, spec, draft, gatewayAddresses.get(d.name), index) };
  });
}

/** Bridged segments need a LAN port on each of their hosts: a given NIC on real hosts, eth1 when emulated. */
function withLanPorts(ctx: ResolveContext, hosts: readonly Host[], segments: readonly Segment[]): Host[] {
  return hosts.map((h) => {
    const bridged = segments.find((s) => s.mode === "bridged" && s.hosts.includes(h.name));
    if (!bridged) return { ...h, lanPort: undefined, fabricLanPort: undefined };
    if (!h.lanPort) {
      ctx.issues.add(h.path, `host '${h.name}' carries bridged segment '${bridged.name}' but has no lanInterface; give the spare NIC on the physical LAN, e.g. lanInterface: 'eth1'.`);
    }
    return h;
  });
}

/** Generated names are hashed when long; make sure no two collide on one host. */
function checkDeviceNames(ctx: ResolveContext, hosts: readonly Host[], segments: readonly Segment[], guests: readonly Guest[], clusters: readonly OverlayCluster[]): void {
  for (const h of hosts) {
    const names: Array<[string, string]> = [];
    for (const s of segments.filter((s) => s.hosts.includes(h.name))) {
      names.push([s.bridge, s.path]);
      if (s.overlayDev) names.push([s.overlayDev, s.path]);
      if (s.ovsPort) names.push([s.ovsPort, s.path]);
    }
    const cluster = clusters.find((c) => c.name === h.cluster);
    if (cluster) {
      for (const n of [cluster.integrationBridge, cluster.tunnelBridge, ...(h.tunnelEndpoint ? [h.tunnelEndpoint.bridge] : [])]) names.push([n, cluster.path]);
    }
    for (const g of guests.filter((g) => g.host === h.name)) for (const n of g.nics) names.push([n.hostDev, g.path]);
    for (const [n, path] of names) ctx.issues.check(path, () => validateInterfaceName(n));
    checkUnique(ctx, names, `device name on host '${h.name}'`);
  }
}
