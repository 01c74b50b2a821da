import { gzipSync } from "zlib";
import { heredoc, sh } from "../net";
import { OverlayCluster, QosPolicy, ResolvedLab } from "../model";
import { endpoints, patchPorts, tunnelPeers, tunnelPort } from "./ovs-flows";
import { switchQueues } from "./ovs-qos";
import { applyScript, keepOnTeardown } from "./script";
import { ChainHook } from "./firewall/ruleset";
import { Stage } from "./stage";

/** Where emulated labs describe themselves for the `cloudnet` CLI. */
export const INVENTORY_DIR = "/run/cloudnet/labs";

/** One node (host or guest) of an emulated lab, as the CLI sees it. */
export interface InventoryNode {
  readonly name: string;
  readonly kind: "host" | "guest" | "external" | "router";
  readonly netns: string;
  /** For guests: the host they sit on. */
  readonly host?: string;
  readonly addresses: readonly string[];
}

/** What the stages put in place on an emulated lab, by namespace, each with the stage that owns it: for `cloudnet verify`. */
export interface DeclaredState {
  readonly stages: readonly string[];
  /** What each stage comes after, to find the stages that must be re-applied with it. */
  readonly after: Readonly<Record<string, readonly string[]>>;
  readonly namespaces: ReadonlyArray<{ readonly name: string; readonly stage: string }>;
  readonly links: ReadonlyArray<{ readonly netns: string; readonly name: string; readonly stage: string }>;
  readonly rules: ReadonlyArray<{ readonly netns: string; readonly family: 4 | 6; readonly payload: string; readonly hooks: readonly ChainHook[]; readonly stage: string }>;
  readonly ipsets: ReadonlyArray<{ readonly netns: string; readonly name: string; readonly family: 4 | 6; readonly stage: string }>;
  readonly nftTables: ReadonlyArray<{ readonly netns: string; readonly name: string; readonly stage: string }>;
  readonly routes: ReadonlyArray<{ readonly netns: string; readonly to: string; readonly stage: string }>;
}

/** An overlay cluster as `cloudnet flows` and `cloudnet trace` read it (see lib/render/ovs-flows.ts). */
export interface InventoryCluster {
  readonly name: string;
  readonly tunnel: "vxlan" | "gre";
  readonly cookie: string;
  readonly learnedCookie: string;
  readonly integrationBridge: string;
  readonly tunnelBridge: string;
  readonly patch: { readonly onIntegration: string; readonly onTunnel: string };
  readonly hosts: ReadonlyArray<{
    readonly name: string;
    readonly ovsRunDir: string;
    /** Where its tunnels start and end. */
    readonly tunnelAddress: string;
    /** Its tunnel ports, by the host at their other end. */
    readonly tunnelPorts: Readonly<Record<string, string>>;
    /** The bridge holding its fabric link (`fabricLink`), which trunks VLAN networks. */
    readonly providerBridge?: string;
    readonly fabricLink?: string;
  }>;
  readonly networks: ReadonlyArray<{
    readonly name: string;
    /** One of the two: carried by the tunnels (VNI) or trunked with a VLAN id. */
    readonly vni?: number;
    readonly vlan?: number;
    readonly cidr: string;
    /** Its Linux bridge on each host, and that bridge's port into the integration bridge. */
    readonly bridge: string;
    readonly ovsPort: string;
    readonly localVlans: Readonly<Record<string, number>>;
    /** Router MAC and address included, as `router.<network>`. */
    readonly endpoints: ReadonlyArray<{ readonly name: string; readonly host: string; readonly mac: string; readonly ips: readonly string[] }>;
  }>;
}

export interface Inventory {
  readonly lab: string;
  /** The lab's construct path, e.g. `stack/demo`. */
  readonly path: string;
  readonly prefix: string;
  readonly nodes: readonly InventoryNode[];
  /** Absent in inventories written before overlay clusters. */
  readonly clusters?: readonly InventoryCluster[];
  /** The devices its QoS policies shape; absent when it has none. */
  readonly qos?: readonly InventoryQos[];
  readonly declared?: DeclaredState;
}

export function inventoryOf(lab: ResolvedLab): Inventory {
  const hosts: InventoryNode[] = lab.hosts.map((h) => ({
    name: h.name, kind: "host", netns: h.netns!, addresses: [`${h.underlay}/${lab.fabric!.cidr.prefixLength}`],
  }));
  const guests: InventoryNode[] = lab.guests.map((g) => ({
    name: g.name, kind: "guest", netns: g.netns!, host: g.host,
    addresses: g.nics.flatMap((n) => [`${n.address}/${n.prefixLength}`, ...(n.address6 ? [`${n.address6}/${n.prefixLength6}`] : [])]),
  }));
  const externals: InventoryNode[] = lab.externals.map((e) => ({
    name: e.name, kind: "external", netns: e.netns,
    addresses: [`${e.address}/${lab.fabric!.cidr.prefixLength}`, ...e.addresses.map((a) => a.toString())],
  }));
  const routers: InventoryNode[] = lab.segments.filter((s) => s.gateway).map((s) => ({
    name: `router.${s.name}`, kind: "router", netns: s.gateway!.router.netns, host: s.gateway!.host,
    addresses: [`${s.gateway!.address}/${s.cidr.prefixLength}`, ...(s.gateway!.address6 ? [`${s.gateway!.address6}/${s.cidr6!.prefixLength}`] : [])],
  }));
  return { lab: lab.name, path: lab.path, prefix: lab.prefix, nodes: [...hosts, ...guests, ...externals, ...routers],
    ...(lab.clusters.length > 0 ? { clusters: lab.clusters.map((c) => inventoryCluster(lab, c)) } : {}),
    ...(lab.qosPolicies.some((p) => p.attachments.length + p.switchPorts.length + p.uplinks.length > 0) ? { qos: inventoryQos(lab) } : {}),
  };
}

function inventoryCluster(lab: ResolvedLab, c: OverlayCluster): InventoryCluster {
  const hosts = lab.hosts.filter((h) => c.hosts.includes(h.name));
  return {
    name: c.name, tunnel: c.tunnel, cookie: c.cookie, learnedCookie: c.learnedCookie,
    integrationBridge: c.integrationBridge, tunnelBridge: c.tunnelBridge, patch: patchPorts(lab, c),
    hosts: hosts.map((h) => ({
      name: h.name, ovsRunDir: h.ovsRunDir!, tunnelAddress: (h.tunnelEndpoint?.address ?? h.underlay).toString(),
      tunnelPorts: Object.fromEntries(tunnelPeers(lab, c, h.name).map((p) => [p, tunnelPort(lab, p)])),
      ...(h.tunnelEndpoint ? { providerBridge: h.tunnelEndpoint.bridge, fabricLink: h.tunnelEndpoint.dev } : {}),
    })),
    networks: lab.segments.filter((s) => s.cluster === c.name).map((s) => ({
      name: s.name, vni: s.vni, vlan: s.vlan, cidr: s.cidr.toString(), bridge: s.bridge, ovsPort: s.ovsPort!, localVlans: s.localVlans ?? {}, endpoints: endpoints(lab, s),
    })),
  };
}

/** A shaped device, as `cloudnet qos` reads it: where it is, and the configured rates of its classes. */
export interface InventoryQos {
  readonly policy: string;
  readonly kind: string;
  readonly host: string;
  /** A guest's NIC (tc), a cluster network's switch port (Open vSwitch), or the host's uplink. */
  readonly guest?: string;
  readonly nic?: number;
  readonly network?: string;
  readonly uplink?: string;
  readonly direction: "ingress" | "egress";
  readonly dev: string;
  /** tc's handle of the root qdisc, e.g. `7c29:`. */
  readonly handle: string;
  /** HTB: every class, by classid; TBF: the bucket's rate as one row with the root's handle. */
  readonly classes: ReadonlyArray<{ readonly name: string; readonly classid: string; readonly rateBit: number; readonly ceilBit?: number; readonly leaf: boolean }>;
}

/** A tc tree's classes as the CLI reads them (a token bucket is one). */
function tcClasses(p: QosPolicy): InventoryQos["classes"] {
  const m = p.major.toString(16);
  const s = p.shape;
  return s.kind === "htb"
    ? s.classes.map((c) => ({ name: c.name, classid: `${m}:${c.minor.toString(16)}`, rateBit: c.rate.bitsPerSecond, ceilBit: c.ceil.bitsPerSecond, leaf: c.leaf }))
    : s.kind === "tbf" ? [{ name: "bucket", classid: `${m}:`, rateBit: s.rate.bitsPerSecond, leaf: true }] : [];
}

function inventoryQos(lab: ResolvedLab): InventoryQos[] {
  const handle = (p: QosPolicy) => `${p.major.toString(16)}:`;
  return lab.qosPolicies.flatMap((p) => p.attachments.map((a): InventoryQos => (
    { policy: p.name, kind: p.shape.kind, host: a.host, guest: a.guest, nic: a.nic, direction: a.direction, dev: a.dev, handle: handle(p), classes: tcClasses(p) }
  ))).concat(lab.qosPolicies.flatMap((p) => p.uplinks.map((u): InventoryQos => (
    { policy: p.name, kind: p.shape.kind, host: u.host, uplink: u.uplink, direction: u.direction, dev: u.dev, handle: handle(p), classes: tcClasses(p) }
  )))).concat(lab.qosPolicies.flatMap((p) => p.switchPorts.map((sp): InventoryQos => {
    // Open vSwitch's linux-htb: queue N is class 1:N+1 under the root 1:fffe.
    const s = p.shape;
    const queues = switchQueues(p);
    const classes = s.kind === "htb"
      ? [{ name: "root", classid: "1:fffe", rateBit: s.classes[0].rate.bitsPerSecond, ceilBit: s.classes[0].ceil.bitsPerSecond, leaf: false },
        ...s.classes.filter((c) => queues.has(c.minor)).map((c) => ({ name: c.name, classid: `1:${(queues.get(c.minor)! + 1).toString(16)}`, rateBit: c.rate.bitsPerSecond, ceilBit: c.ceil.bitsPerSecond, leaf: true }))]
      : [];
    return { policy: p.name, kind: s.kind, host: sp.host, network: sp.segment, direction: sp.direction, dev: sp.port, handle: "1:", classes };
  })));
}

/** The declared state of an emulated lab's stages, by the namespace each object lives in. */
export function declaredState(lab: ResolvedLab, stages: readonly Stage[]): DeclaredState {
  const hostNs = (h: string) => lab.hosts.find((x) => x.name === h)!.netns!;
  type Lists = Exclude<keyof DeclaredState, "stages" | "after">;
  const d = { namespaces: [], links: [], rules: [], ipsets: [], nftTables: [], routes: [] } as { -readonly [K in Lists]: Array<DeclaredState[K][number]> };
  for (const s of stages) {
    const here = s.runOn.kind === "host" ? hostNs(s.runOn.host) : s.runOn.kind === "netns" ? s.runOn.netns : undefined;
    const stage = s.id;
    for (const o of s.owns ?? []) {
      if (o.kind === "netns") d.namespaces.push({ name: o.name, stage });
      else if (o.kind === "link" && (o.netns ?? here)) d.links.push({ netns: (o.netns ?? here)!, name: o.name, stage });
      else if (o.kind === "ipset" && here) d.ipsets.push({ netns: here, name: o.name, family: o.family, stage });
      else if (o.kind === "nft-table" && here) d.nftTables.push({ netns: here, name: o.name, stage });
      else if (o.kind === "route" && here) d.routes.push({ netns: here, to: o.to, stage });
    }
    for (const r of s.rules ?? []) if (r.netns ?? here) d.rules.push({ netns: (r.netns ?? here)!, family: r.family, payload: r.payload, hooks: r.hooks, stage });
  }
  return { stages: stages.map((s) => s.id), after: Object.fromEntries(stages.map((s) => [s.id, s.after])), ...d };
}

/** gzip (deterministic: no name, no time) then base64 in lines of 76. */
function packed(text: string): string {
  return gzipSync(Buffer.from(text), { level: 9 }).toString("base64").replace(/(.{76})/g, "$1\n");
}

/**
 * Writes the lab's inventory file once everything else is in place (the fabric stage removes it on
 * destroy): its nodes for `cloudnet list` and `exec`, and what `stages` declare for `cloudnet verify`.
 */
export function renderInventory(lab: ResolvedLab, stages: readonly Stage[]): Stage {
  const after = stages.map((s) => s.id);
  const file = `${INVENTORY_DIR}/${lab.name}.json`;
  return {
    id: "inventory",
    runOn: { kind: "controller" },
    title: `inventory ${file}`,
    after,
    // Its own content is all it depends on: rebuilt stages do not change the file.
    replacedWith: [],
    apply: applyScript(`inventory ${file}`, [
      sh`mkdir -p ${INVENTORY_DIR}`,
      // Compressed: the declared state grows with the lab, and a stage travels in environment variables.
      heredoc(sh`{ base64 -d | gzip -dc > ${file}.tmp; }`, packed(JSON.stringify({ ...inventoryOf(lab), declared: declaredState(lab, stages) }))),
      sh`mv -f ${file}.tmp ${file}`,
    ], [sh`rm -f ${file}.tmp`]),
    teardown: keepOnTeardown(`inventory ${file}`),
    owns: [{ kind: "file", path: file }],
  };
}
