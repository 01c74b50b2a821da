import { createHash } from "crypto";
import { MacAddress, kernelName, validateIdentifier } from "../net";
import { ResolveContext, isDefined } from "./context";
import { Guest, Host, LOCAL_VLAN_MAX, OverlayCluster, Segment } from "./lab";
import { OverlayClusterSpec, SegmentSpec } from "./spec";

/** Where emulated hosts' OVS daemons keep their databases, sockets and logs: a directory per host namespace. */
export const OVS_RUN_ROOT = "/run/cloudnet/ovs";

/** The cluster spec a segment names, if it names a known one. */
export function clusterOf(ctx: ResolveContext, s: SegmentSpec): OverlayClusterSpec | undefined {
  return s.cluster === undefined ? undefined : (ctx.spec.clusters ?? []).find((c) => c.name === s.cluster);
}

/** How many fabric addresses the clusters' tunnel endpoints take (one per emulated cluster host). */
export function tunnelEndpointCount(specs: readonly OverlayClusterSpec[] | undefined): number {
  return new Set((specs ?? []).flatMap((c) => c.hosts)).size;
}

/**
 * The clusters: names, hosts (each in one cluster at most, two at least per cluster), tunnel kind,
 * and the names of their bridges. A host's tunnels start at an address of its own on emulated labs.
 */
export function resolveClusters(ctx: ResolveContext, hostNames: ReadonlySet<string>): OverlayCluster[] {
  const seen = new Map<string, string>();
  const hostCluster = new Map<string, string>();
  return (ctx.spec.clusters ?? []).map((c): OverlayCluster | undefined => {
    const name = ctx.issues.check(c.path, () => validateIdentifier(c.name, "cluster"));
    if (name && seen.has(name)) ctx.issues.add(c.path, `cluster name '${name}' is already used by ${seen.get(name)}; give each cluster its own name.`);
    if (name) seen.set(name, c.path);
    const hosts = [...new Set(c.hosts)].sort();
    for (const h of hosts) {
      if (!hostNames.has(h)) ctx.issues.add(c.path, `cluster '${c.name}' names host '${h}', which is not in the lab; add it with lab.addHost('${h}').`);
      const other = hostCluster.get(h);
      if (other) ctx.issues.add(c.path, `host '${h}' is already in cluster '${other}'; a host's Open vSwitch belongs to one cluster: put the networks of both in one cluster.`);
      else hostCluster.set(h, c.name);
    }
    if (hosts.length < 2) {
      ctx.issues.add(c.path, `cluster '${c.name}' has ${hosts.length === 0 ? "no host" : `one host (${hosts[0]})`}, so its tunnels would lead nowhere; give it two hosts or more, or leave its networks on Linux bridges.`);
    }
    const tunnel = c.tunnel ?? "vxlan";
    if (tunnel !== "vxlan" && tunnel !== "gre") ctx.issues.add(c.path, `cluster '${c.name}': tunnel '${String(tunnel)}' is not one of vxlan, gre.`);
    if (!name) return undefined;
    return {
      name, path: c.path, hosts, tunnel, l2Population: c.l2Population ?? true,
      integrationBridge: kernelName(ctx.prefix, "i", name),
      tunnelBridge: kernelName(ctx.prefix, "t", name),
      cookie: cookie(`cloudnet/${ctx.prefix}/${name}`),
      learnedCookie: cookie(`cloudnet/${ctx.prefix}/${name}/learned`),
    };
  }).filter(isDefined);
}

/** A 64-bit OpenFlow cookie from `seed`, written as OVS prints it (no leading zeros), never 0. */
function cookie(seed: string): string {
  const value = BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 16)}`) || 1n;
  return `0x${value.toString(16)}`;
}

/**
 * Cluster hosts learn their cluster; emulated ones their tunnel endpoint and OVS directory. A host's
 * tunnel address is the fabric's address at half its size plus the host's place in the lab: hosts
 * take addresses from the bottom and externals from the top, so adding any of them never moves it.
 */
export function withClusters(ctx: ResolveContext, hosts: readonly Host[], clusters: readonly OverlayCluster[]): Host[] {
  const fabric = ctx.fabric;
  const externals = ctx.spec.externals?.length ?? 0;
  return hosts.map((h) => {
    const cluster = clusters.find((c) => c.hosts.includes(h.name));
    if (!cluster) return h;
    if (!h.netns || !fabric) return { ...h, cluster: cluster.name };
    const offset = fabric.size / 2n + BigInt(ctx.spec.hosts.findIndex((x) => x.name === h.name));
    if (offset <= BigInt(ctx.spec.hosts.length) || offset >= fabric.size - 2n - BigInt(externals) + 1n) {
      ctx.issues.add(cluster.path, `fabric ${fabric} has no room for the tunnel address of host '${h.name}' (from the middle of the fabric up, between ${ctx.spec.hosts.length} hosts from the bottom and ${externals} externals from the top); give the lab a larger fabricCidr, e.g. a /${Math.max(8, fabric.prefixLength - 1)}.`);
      return { ...h, cluster: cluster.name };
    }
    return {
      ...h, cluster: cluster.name, ovsRunDir: `${OVS_RUN_ROOT}/${h.netns}`,
      tunnelEndpoint: {
        address: fabric.addressAt(offset), mac: MacAddress.derive(`${ctx.spec.name}/tunnel-endpoint/${h.name}`),
        bridge: kernelName(ctx.prefix, "p", h.name), dev: "tun0",
        fabricPort: kernelName(ctx.prefix, "e", h.name),
      },
    };
  });
}

/**
 * A segment that joins a cluster: tunnelled (VXLAN segmentation: the cluster's tunnels carry its VNI)
 * or, on emulated hosts, VLAN-segmented (trunked over the fabric by each host's provider bridge); not
 * bridged, on the cluster's hosts only, with a local VLAN tag per host (1 upwards, by VNI, then by
 * VLAN id) and a port into the integration bridge.
 */
export function clusterSegments(ctx: ResolveContext, segments: readonly Segment[], clusters: readonly OverlayCluster[]): Segment[] {
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const tags = new Map<string, number>();
  // Tunnelled networks by VNI, then VLAN networks by VLAN id.
  const order = (x: Segment) => x.vni ?? 2 ** 24 + (x.vlan ?? 0);
  const sorted = [...segments].sort((a, b) => order(a) - order(b));
  const localVlans = new Map<string, Record<string, number>>();
  for (const s of sorted) {
    const spec = ctx.spec.segments.find((x) => x.name === s.name)!;
    if (spec.cluster === undefined) continue;
    const cluster = byName.get(spec.cluster);
    if (!cluster) {
      const known = clusters.map((c) => `'${c.name}'`).join(", ");
      ctx.issues.add(s.path, `network '${s.name}' joins cluster '${spec.cluster}', which is not in the lab${known ? ` (it has ${known})` : ""}; add it with new OverlayCluster(lab, '${spec.cluster}', { hosts }).`);
      continue;
    }
    if (s.mode === "bridged") {
      ctx.issues.add(s.path, `network '${s.name}' is bridged (on the physical LAN), so it takes no overlay; remove cluster or choose another mode.`);
      continue;
    }
    if (s.vni === undefined && !ctx.fabric) {
      ctx.issues.add(s.path, `network '${s.name}' uses VLAN segmentation, which cluster '${cluster.name}' carries on emulated hosts only (on real hosts it would need a provider bridge holding a NIC of the host, which the lab does not set up); use Segmentation.vxlan() or leave the network on Linux bridges.`);
      continue;
    }
    const outside = s.hosts.filter((h) => !cluster.hosts.includes(h));
    if (outside.length > 0) {
      ctx.issues.add(s.path, `network '${s.name}' of cluster '${cluster.name}' spans ${outside.map((h) => `'${h}'`).join(", ")}, not in the cluster (${cluster.hosts.join(", ")}); add ${outside.length > 1 ? "them" : "it"} to the cluster's hosts or place the network's guests on its hosts.`);
      continue;
    }
    const full = s.hosts.filter((h) => (tags.get(h) ?? 0) >= LOCAL_VLAN_MAX);
    if (full.length > 0) {
      const which = full.length === 1 ? `host '${full[0]}' carries` : `hosts ${full.map((h) => `'${h}'`).join(", ")} carry`;
      ctx.issues.add(s.path, `${which} more than ${LOCAL_VLAN_MAX.toLocaleString("en")} networks of cluster '${cluster.name}', the local VLAN tags of an integration bridge; spread the networks over more hosts.`);
      continue;
    }
    const tagsHere: Record<string, number> = {};
    for (const h of s.hosts) {
      const tag = (tags.get(h) ?? 0) + 1;
      tags.set(h, tag);
      tagsHere[h] = tag;
    }
    localVlans.set(s.name, tagsHere);
  }
  return segments.map((s) => {
    const tagsHere = localVlans.get(s.name);
    if (!tagsHere) return s;
    const spec = ctx.spec.segments.find((x) => x.name === s.name)!;
    return { ...s, cluster: spec.cluster, ovsPort: kernelName(ctx.prefix, "w", s.name), localVlans: tagsHere };
  });
}

/**
 * A cluster's switches admit a guest's frames by the MAC the lab gave it (the integration bridge's
 * source check, L2 population, the ARP responder). Docker on a real host picks its own MAC for a
 * container and the provider has no field to set it, so such a guest could never send.
 */
export function checkClusterGuests(ctx: ResolveContext, guests: readonly Guest[], segments: ReadonlyMap<string, Segment>): void {
  if (ctx.emulated) return;
  for (const g of guests.filter((x) => x.compute.kind === "container")) {
    for (const n of g.nics.filter((x) => segments.get(x.segment)?.cluster !== undefined)) {
      ctx.issues.add(g.path, `container '${g.name}' has NIC ${n.index} on network '${n.segment}' of cluster '${segments.get(n.segment)!.cluster}': on a real host Docker picks the container's MAC, which the cluster's switches would not admit; make the guest a VM or a namespace guest, or leave the network out of the cluster.`);
    }
  }
}
