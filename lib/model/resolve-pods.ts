import { Cidr, IpAddress, MacAddress, kernelName, validateIdentifier } from "../net";
import { ResolveContext, isDefined } from "./context";
import { Host, MIN_IPV4_MTU, Segment, VNI_MAX, VNI_MIN, VXLAN_OVERHEAD_IPV4 } from "./lab";
import {
  CALICO_AS_NUMBER, CALICO_POD_GATEWAY, CALICO_VXLAN_PORT, CALICO_VXLAN_VNI, FLANNEL_VXLAN_PORT, IPIP_OVERHEAD, Pod, PodBackend, PodNetwork, PodNode,
} from "./pod-network";
import { realGuestNetns } from "./resolve-guests";
import { PodBackendSpec, PodNetworkSpec } from "./spec";

const DEFAULT_UNDERLAY_MTU = 1500;
/** Label keys and values as Kubernetes has them: a DNS-subdomain prefix and a name of 63 characters at most. */
const LABEL_KEY_RE = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** The lab's pod networks: each node's subnet, VTEP or tunnel, and each pod's namespace and address. */
export function resolvePodNetworks(
  ctx: ResolveContext, hosts: readonly Host[], segments: readonly Segment[], segmentVnis: ReadonlyMap<number, string>,
): PodNetwork[] {
  const specs = ctx.spec.podNetworks ?? [];
  const networks = specs.map((spec) => resolvePodNetwork(ctx, spec, hosts)).filter(isDefined);
  checkOverlaps(ctx, networks, segments);
  checkVnis(ctx, networks, segmentVnis);
  checkOneCalicoPerNode(ctx, networks);
  return networks;
}

function resolvePodNetwork(ctx: ResolveContext, spec: PodNetworkSpec, hosts: readonly Host[]): PodNetwork | undefined {
  const c = ctx.issues;
  const at = spec.path;
  const name = c.check(at, () => validateIdentifier(spec.name, "pod network"));
  const cidr = c.check(at, () => Cidr.parse(spec.cidr));
  if (!name || !cidr) return undefined;
  if (cidr.family !== 4) {
    c.add(at, `cluster CIDR ${cidr} of pod network '${name}' is IPv6; pod networks here are IPv4: give an IPv4 CIDR such as '10.244.0.0/16'.`);
    return undefined;
  }
  const backend = resolveBackend(ctx, spec, spec.backend);
  const prefix = spec.nodeSubnetPrefix ?? (spec.backend.kind === "calico" ? 26 : 24);
  if (!Number.isInteger(prefix) || prefix <= cidr.prefixLength || prefix > 30) {
    c.add(at, `nodeSubnetPrefix ${prefix} of pod network '${name}' cannot split ${cidr}: use a mask longer than /${cidr.prefixLength} and at most /30, e.g. /${Math.min(30, Math.max(cidr.prefixLength + 8, 24))}.`);
    return undefined;
  }
  const slots = 2n ** BigInt(prefix - cidr.prefixLength);
  if (BigInt(spec.nodes.length) > slots) {
    c.add(at, `pod network '${name}' has ${spec.nodes.length} nodes but ${cidr} holds only ${slots} subnets of /${prefix}; use a shorter nodeSubnetPrefix or a larger cidr.`);
    return undefined;
  }
  if (spec.nodes.length === 0) c.add(at, `pod network '${name}' has no nodes; give the hosts it runs on, e.g. nodes: [h1, h2].`);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const seen = new Set<string>();
  for (const n of spec.nodes) {
    if (!byName.has(n)) c.add(at, `node '${n}' of pod network '${name}' is not a host of the lab; add the host, or remove it from nodes.`);
    if (seen.has(n)) c.add(at, `node '${n}' is listed twice in pod network '${name}'.`);
    seen.add(n);
  }
  const underlayMtu = spec.underlayMtu ?? DEFAULT_UNDERLAY_MTU;
  const mtu = backend ? underlayMtu - overhead(backend) : underlayMtu;
  if (!Number.isInteger(underlayMtu) || mtu < MIN_IPV4_MTU) {
    c.add(at, `underlayMtu ${underlayMtu} of pod network '${name}' leaves pods an MTU of ${mtu}, below ${MIN_IPV4_MTU}; raise underlayMtu.`);
  }
  const underlayCidr = spec.underlayCidr !== undefined ? c.check(at, () => Cidr.parse(spec.underlayCidr!)) : ctx.fabric;
  if (!backend || c.issues.some((i) => i.path === at)) return undefined;
  checkL2(ctx, spec, name, backend, underlayCidr, spec.nodes.map((n) => byName.get(n)!));
  const prefixSubnet = (i: number) => Cidr.parse(`${cidr.addressAt(BigInt(i) * 2n ** BigInt(32 - prefix))}/${prefix}`);
  const nodes: PodNode[] = spec.nodes.map((host, i) => podNode(ctx, name, backend, host, prefixSubnet(i)));
  const pods = resolvePods(ctx, spec, name, backend, nodes);
  return { name, path: at, cidr, nodeSubnetPrefix: prefix, backend, mtu, underlayCidr, nodes, pods };
}

function overhead(b: PodBackend): number {
  if (b.kind === "flannel-vxlan" || (b.kind === "calico" && b.encapsulation === "vxlan")) return VXLAN_OVERHEAD_IPV4;
  if (b.kind === "calico" && b.encapsulation === "ipip") return IPIP_OVERHEAD;
  return 0;
}

function resolveBackend(ctx: ResolveContext, spec: PodNetworkSpec, b: PodBackendSpec): PodBackend | undefined {
  const c = ctx.issues;
  const at = spec.path;
  switch (b?.kind) {
    case "flannel-vxlan": {
      const vni = b.vni ?? 1;
      const port = b.port ?? FLANNEL_VXLAN_PORT;
      if (!Number.isInteger(vni) || vni < VNI_MIN || vni > VNI_MAX) c.add(at, `VNI ${vni} of pod network '${spec.name}' is out of range: a VXLAN network identifier is ${VNI_MIN}-16,777,215.`);
      if (!Number.isInteger(port) || port < 1 || port > 65535) c.add(at, `VXLAN port ${port} of pod network '${spec.name}' is out of range 1-65535.`);
      return { kind: b.kind, vni, port };
    }
    case "flannel-host-gw":
      return { kind: b.kind };
    case "calico": {
      const asNumber = b.asNumber ?? CALICO_AS_NUMBER;
      if (!Number.isInteger(asNumber) || asNumber < 1 || asNumber > 4294967294) c.add(at, `AS number ${asNumber} of pod network '${spec.name}' is out of range 1-4294967294.`);
      const encapsulation = b.encapsulation ?? "none";
      if (!["none", "ipip", "vxlan"].includes(encapsulation)) c.add(at, `encapsulation '${encapsulation}' of pod network '${spec.name}' is unknown: use 'none', 'ipip' or 'vxlan'.`);
      const crossSubnet = b.crossSubnet ?? false;
      if (crossSubnet && encapsulation === "none") c.add(at, `pod network '${spec.name}' sets crossSubnet without encapsulation; crossSubnet says where to encapsulate: set encapsulation 'ipip' or 'vxlan'.`);
      const routeReflectors = [...(b.routeReflectors ?? [])].sort();
      for (const r of routeReflectors) if (!spec.nodes.includes(r)) c.add(at, `route reflector '${r}' of pod network '${spec.name}' is not one of its nodes (${spec.nodes.join(", ")}).`);
      return { kind: "calico", encapsulation, crossSubnet, asNumber, routeReflectors };
    }
    default:
      c.add(at, `backend '${(b as { kind?: string })?.kind}' of pod network '${spec.name}' is unknown: use PodBackend.flannelVxlan(), PodBackend.flannelHostGw() or PodBackend.calico().`);
      return undefined;
  }
}

/** host-gw (and Calico without encapsulation, or its cross-subnet split) routes to each node's own address: they must share one L2 segment. */
function checkL2(ctx: ResolveContext, spec: PodNetworkSpec, name: string, b: PodBackend, underlay: Cidr | undefined, nodes: readonly Host[]): void {
  const needsL2 = b.kind === "flannel-host-gw" || (b.kind === "calico" && b.encapsulation === "none");
  const needsCidr = needsL2 || (b.kind === "calico" && b.crossSubnet);
  if (!needsCidr) return;
  const why = b.kind === "flannel-host-gw"
    ? "host-gw routes each node's subnet via that node's own address, so every node must be on one L2 segment"
    : b.kind === "calico" && b.crossSubnet
      ? "cross-subnet encapsulation is decided by the nodes' underlay subnet"
      : "unencapsulated Calico routes each block via its node's own address, so every node must be on one L2 segment (or a routed underlay that carries pod addresses)";
  if (!underlay) {
    ctx.issues.add(spec.path, `pod network '${name}' needs underlayCidr: ${why}; give the nodes' shared subnet, e.g. underlayCidr: '192.0.2.0/24'.`);
    return;
  }
  if (!needsL2) return;
  for (const h of nodes) {
    if (!underlay.contains(h.underlay)) {
      const fix = b.kind === "flannel-host-gw" ? "use PodBackend.flannelVxlan()" : "use encapsulation 'ipip' or 'vxlan' with crossSubnet";
      ctx.issues.add(spec.path, `node '${h.name}' (${h.underlay}) of pod network '${name}' is outside ${underlay}: ${why}; ${fix}, or move the node.`);
    }
  }
}

function podNode(ctx: ResolveContext, network: string, b: PodBackend, host: string, subnet: Cidr): PodNode {
  const seed = `${ctx.spec.name}/pods/${network}/${host}`;
  if (b.kind === "flannel-vxlan") {
    return {
      host, subnet, bridge: kernelName(ctx.prefix, "c", network), gateway: subnet.addressAt(1),
      vtep: { dev: kernelName(ctx.prefix, "k", `${b.vni}`), mac: MacAddress.derive(`${seed}/vtep`), address: subnet.network },
    };
  }
  if (b.kind === "flannel-host-gw") return { host, subnet, bridge: kernelName(ctx.prefix, "c", network), gateway: subnet.addressAt(1) };
  if (b.encapsulation === "none") return { host, subnet };
  // Calico gives the tunnel device the block's first address, so that the node's own packets into the tunnel have a pod-range source.
  return {
    host, subnet,
    tunnel: {
      dev: kernelName(ctx.prefix, "j", network),
      mac: b.encapsulation === "vxlan" ? MacAddress.derive(`${seed}/vtep`) : undefined,
      address: subnet.addressAt(0),
    },
  };
}

function resolvePods(
  ctx: ResolveContext, spec: PodNetworkSpec, network: string, b: PodBackend, nodes: readonly PodNode[],
): Pod[] {
  const c = ctx.issues;
  const calico = b.kind === "calico";
  // Flannel: .1 is the bridge's; Calico: .0 is the tunnel's (when there is one), pods from .1 (Calico's IPAM also hands out .0).
  const next = new Map(nodes.map((n) => [n.host, 2n]));
  if (calico) for (const n of nodes) next.set(n.host, 1n);
  return spec.pods.map((p): Pod | undefined => {
    const name = c.check(p.path, () => validateIdentifier(p.name, "pod"));
    if (!name) return undefined;
    ctx.claimNodeName(name, p.path, "pod");
    const node = nodes.find((n) => n.host === p.node);
    if (!node) {
      c.add(p.path, `pod '${name}' is on '${p.node}', which is not a node of pod network '${network}' (${spec.nodes.join(", ") || "none"}); add it to nodes or move the pod.`);
      return undefined;
    }
    for (const [k, v] of Object.entries(p.labels ?? {})) {
      if (!LABEL_KEY_RE.test(k)) c.add(p.path, `label key '${k}' of pod '${name}' is not a Kubernetes label key: a name of 1-63 of A-Z a-z 0-9 - _ . (optionally 'prefix/'), starting and ending alphanumeric.`);
      if (typeof v !== "string" || !LABEL_VALUE_RE.test(v)) c.add(p.path, `label '${k}: ${v}' of pod '${name}' has an invalid value: 0-63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric.`);
    }
    const n = next.get(node.host)!;
    const usable = node.subnet.size - 1n; // the broadcast address is never a pod's
    if (n >= usable) {
      const room = usable - (calico ? 1n : 2n);
      c.add(p.path, `pod '${name}' does not fit on node '${node.host}': its /${node.subnet.prefixLength} of pod network '${network}' holds ${room} pods; use a shorter nodeSubnetPrefix or place the pod on another node.`);
      return undefined;
    }
    next.set(node.host, n + 1n);
    return {
      name, path: p.path, network, node: node.host,
      netns: ctx.emulated ? `${ctx.prefix}-${name}` : realGuestNetns(ctx.prefix, name),
      address: node.subnet.addressAt(n),
      prefixLength: calico ? 32 : node.subnet.prefixLength,
      gateway: calico ? IpAddress.parse(CALICO_POD_GATEWAY) : node.gateway!,
      mac: MacAddress.derive(`${ctx.spec.name}/pod/${name}`),
      hostDev: kernelName(ctx.prefix, "d", name),
      guestDev: "eth0",
      labels: { ...(p.labels ?? {}) },
    };
  }).filter(isDefined);
}

/** Pod networks that share a node route to each other's subnets: their CIDRs, and the lab's segments and fabric there, must not overlap. */
function checkOverlaps(ctx: ResolveContext, networks: readonly PodNetwork[], segments: readonly Segment[]): void {
  networks.forEach((a, i) => {
    for (const b of networks.slice(0, i)) {
      const shared = a.nodes.map((n) => n.host).filter((h) => b.nodes.some((m) => m.host === h));
      if (shared.length > 0 && a.cidr.overlaps(b.cidr)) {
        ctx.issues.add(a.path, `cluster CIDR ${a.cidr} of pod network '${a.name}' overlaps ${b.cidr} of pod network '${b.name}' (${b.path}) on node '${shared[0]}'; one routing domain needs distinct ranges: pick another cidr.`);
      }
    }
    for (const s of segments) {
      const shared = a.nodes.map((n) => n.host).filter((h) => s.hosts.includes(h));
      if (shared.length > 0 && a.cidr.overlaps(s.cidr)) {
        ctx.issues.add(a.path, `cluster CIDR ${a.cidr} of pod network '${a.name}' overlaps ${s.cidr} of segment '${s.name}' (${s.path}) on node '${shared[0]}'; pick another cidr.`);
      }
    }
    if (ctx.fabric && a.cidr.overlaps(ctx.fabric)) {
      ctx.issues.add(a.path, `cluster CIDR ${a.cidr} of pod network '${a.name}' overlaps the lab's fabric ${ctx.fabric}; pick another cidr.`);
    }
  });
}

/** Two VXLAN devices with one VNI and port on a host: the kernel takes one, the other fails at apply. */
function checkVnis(ctx: ResolveContext, networks: readonly PodNetwork[], segmentVnis: ReadonlyMap<number, string>): void {
  const seen = new Map<string, string>();
  for (const n of networks) {
    const id = n.backend.kind === "flannel-vxlan" ? n.backend.vni : n.backend.kind === "calico" && n.backend.encapsulation === "vxlan" ? CALICO_VXLAN_VNI : undefined;
    if (id === undefined) continue;
    const port = n.backend.kind === "flannel-vxlan" ? n.backend.port : CALICO_VXLAN_PORT;
    const other = seen.get(`${id}/${port}`);
    if (other) ctx.issues.add(n.path, `VNI ${id} (port ${port}) of pod network '${n.name}' is already used by ${other}; give each VXLAN pod network its own vni.`);
    else seen.set(`${id}/${port}`, `pod network '${n.name}' (${n.path})`);
    const segment = port === SEGMENT_VXLAN_PORT ? segmentVnis.get(id) : undefined;
    if (segment) ctx.issues.add(n.path, `VNI ${id} of pod network '${n.name}' is already used by segment ${segment} on the same port ${port}; give the pod network another vni.`);
  }
}

/** One BIRD per node speaks BGP on port 179: a node takes part in one Calico network. */
function checkOneCalicoPerNode(ctx: ResolveContext, networks: readonly PodNetwork[]): void {
  const byNode = new Map<string, string>();
  for (const n of networks.filter((x) => x.backend.kind === "calico")) {
    for (const node of n.nodes) {
      const other = byNode.get(node.host);
      if (other) ctx.issues.add(n.path, `node '${node.host}' is already in Calico pod network '${other}'; its BGP speaker serves one network: use another node.`);
      else byNode.set(node.host, n.name);
    }
  }
}

/** The lab's segments' VXLAN port (render/segments' VXLAN_PORT). */
const SEGMENT_VXLAN_PORT = 4789;
