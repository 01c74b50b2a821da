import { MacAddress, sh } from "../net";
import { Host, ResolvedLab, Segment } from "../model";
import { stateScope } from "./converge";
import { clusterOfHost, ovsFlowLines, ovsHostLines, ovsSegmentLines } from "./ovs";
import { applyScript, keepOnTeardown } from "./script";
import { hasSecurityGroups } from "./security";
import { Owned, Stage } from "./stage";

export const VXLAN_PORT = 4789;

export function networkStageId(host: string): string {
  return `network/${host}`;
}

/**
 * The segments a host takes part in: a bridge per segment, joined to the other hosts by a VXLAN
 * device with head-end replication (one flood entry per remote host), a VLAN device on the uplink,
 * or the host's LAN port (bridged). Gateways, floating IPs and routes to routed segments come with
 * them. The apply converges: run over an older version it adds, changes and removes entries in place
 * (flood lists, routes, addresses) without taking a bridge or router down. Returns undefined when the
 * host has none of these.
 */
export function renderHostNetwork(lab: ResolvedLab, host: Host, after: readonly string[]): Stage | undefined {
  const segments = lab.segments.filter((s) => s.hosts.includes(host.name));
  const routes = routesFor(lab, host);
  const floating = floatingIpsOn(lab, host);
  if (segments.length === 0 && routes.length === 0) return undefined;
  const scope = stateScope(lab, host.name);
  const guarded = hasSecurityGroups(lab, host);
  const body: string[] = [];
  const owns: Owned[] = [];
  if (guarded) {
    body.push(sh`cn_brnf_hold ${scope} ${lab.prefix}`);
    owns.push({ kind: "br-netfilter" });
  }
  if (segments.some((s) => s.gateway?.host === host.name)) {
    // Forwarding on the uplink and the router links only, not host-wide: the host's other interfaces keep theirs.
    const key = `net/ipv4/conf/${host.uplink}/forwarding`;
    body.push(sh`cn_sysctl_hold ${key} ${scope} ${lab.prefix}`, sh`sysctl -qw ${key}=1`);
    owns.push({ kind: "sysctl", key });
  }
  // A cluster host's switch, when one of its networks here is the cluster's.
  const own = clusterOfHost(lab, host);
  const cluster = own && segments.some((s) => s.cluster === own.name) ? own : undefined;
  if (cluster) {
    const ovs = ovsHostLines(lab, host, cluster);
    body.push(...ovs.apply);
    owns.push(...ovs.owns);
  }
  for (const s of segments) {
    const seg = segmentLines(lab, host, s, guarded);
    body.push(...seg.apply);
    owns.push(...seg.owns);
  }
  if (cluster) body.push(...ovsFlowLines(lab, host, cluster));
  // The host ends of its guests' NICs (veths here, TAPs that libvirt makes on real hosts) are the lab's too.
  for (const g of lab.guests.filter((x) => x.host === host.name)) for (const n of g.nics) owns.push({ kind: "link", name: n.hostDev });
  for (const ip of floating) {
    body.push(sh`cn_addr_put ${scope} ${lab.prefix} ${ip}/32 ${host.uplink}`);
    owns.push({ kind: "address", address: `${ip}/32`, dev: host.uplink });
  }
  for (const r of routes) {
    body.push(sh`cn_route_put ${scope} ${lab.prefix} ${r.to} via ${r.via}`);
    owns.push({ kind: "route", to: r.to });
  }
  const names = segments.map((s) => s.name).join(",") || "routes";
  const title = `network on ${host.name}: ${names}`;
  return {
    id: networkStageId(host.name),
    runOn: { kind: "host", host: host.name },
    title,
    after,
    // A failed apply keeps what was live: the next deploy converges from there.
    apply: applyScript(title, body, []),
    teardown: keepOnTeardown(title),
    owns,
  };
}

/** On a real host, the lab records each link it makes: converge and teardown remove only those there. */
function recorded(lab: ResolvedLab, host: Host, devs: readonly string[]): string[] {
  if (host.target.kind === "emulated") return [];
  return devs.map((d) => sh`cn_link_record ${stateScope(lab, host.name)} ${lab.prefix} ${d}`);
}

function segmentLines(lab: ResolvedLab, host: Host, s: Segment, guarded: boolean): { apply: string[]; owns: Owned[] } {
  const filter = guarded ? 1 : 0;
  const apply = [
    `# segment ${s.name} of tenant ${s.tenant}: ${s.mode}, ${s.cidr}${s.cidr6 ? ` ${s.cidr6}` : ""}, ${s.vni !== undefined ? `VNI ${s.vni}` : s.vlan !== undefined ? `VLAN ${s.vlan}` : "LAN"}, MTU ${s.mtu}`,
    ...recorded(lab, host, [s.bridge, ...(s.overlayDev && (s.vni !== undefined || s.vlan !== undefined) ? [s.overlayDev] : [])]),
    sh`if cn_link_missing ${s.bridge}; then ip link add ${s.bridge} mtu ${s.mtu} type bridge; fi`,
    sh`ip link set dev ${s.bridge} mtu ${s.mtu}`,
    // Security groups see this bridge's frames (br_netfilter, per bridge: the host's own bridges are left as they are).
    sh`ip link set ${s.bridge} type bridge nf_call_iptables ${filter} nf_call_ip6tables ${filter}`,
    // The bridge is L2 only: it answers no ARP for the host's addresses (the host would otherwise take
    // guests' packets in through it) and has no IPv6 (no link-local for guests to reach the host by).
    sh`sysctl -qw net/ipv4/conf/${s.bridge}/arp_ignore=8 net/ipv6/conf/${s.bridge}/disable_ipv6=1`,
    sh`ip link set ${s.bridge} up`,
  ];
  const owns: Owned[] = [{ kind: "link", name: s.bridge }];
  if (s.cluster) {
    const ovs = ovsSegmentLines(lab, host, s);
    apply.push(...ovs.apply);
    owns.push(...ovs.owns);
  } else if (s.vni !== undefined && s.overlayDev) {
    const remotes = s.hosts.filter((h) => h !== host.name).map((r) => lab.hosts.find((h) => h.name === r)!.underlay.toString());
    const remoteMacs = l2Population(lab, host, s);
    apply.push(
      // A VNI or underlay address is fixed when the device is made (and a learning one is an older version's): one that differs is made again.
      sh`if ! cn_link_missing ${s.overlayDev} && ! cn_vxlan_is ${s.overlayDev} ${s.vni} ${host.underlay.toString()}; then ip link del dev ${s.overlayDev}; fi`,
      // nolearning: the device never learns where a MAC lives from the wire (a forged inner source would poison it).
      sh`if cn_link_missing ${s.overlayDev}; then cn_vni_free ${s.overlayDev} ${s.vni} ${lab.prefix}; ip link add ${s.overlayDev} mtu ${s.mtu} type vxlan id ${s.vni} local ${host.underlay.toString()} dstport ${VXLAN_PORT} nolearning; fi`,
      sh`ip link set dev ${s.overlayDev} mtu ${s.mtu} master ${s.bridge} up`,
      sh`bridge link set dev ${s.overlayDev} learning off`,
      [sh`cn_flood ${s.overlayDev}`, ...remotes.map((d) => sh`${d}`)].join(" "),
      // L2 population: the lab knows where every MAC lives, so the tunnel and the bridge are told, not taught.
      // One list for both tables: at 10,000 guests these lines were most of the network stages' bytes.
      [sh`cn_l2pop ${s.overlayDev}`, ...remoteMacs.map((m) => sh`${`${m.mac}@${m.underlay}`}`)].join(" "),
    );
    owns.push({ kind: "link", name: s.overlayDev });
  } else if (s.vlan !== undefined && s.overlayDev) {
    const remoteMacs = l2Population(lab, host, s);
    apply.push(
      `if ! cn_link_missing ${sh`${s.overlayDev}`} && ! ip -o -d link show dev ${sh`${s.overlayDev}`} | grep -q "@${sh`${host.uplink}`}: .* vlan protocol 802.1Q id ${sh`${s.vlan}`} "; then ip link del dev ${sh`${s.overlayDev}`}; fi`,
      sh`if cn_link_missing ${s.overlayDev}; then ip link add link ${host.uplink} name ${s.overlayDev} mtu ${s.mtu} type vlan id ${s.vlan}; fi`,
      sh`ip link set dev ${s.overlayDev} mtu ${s.mtu} master ${s.bridge} up`,
      // The uplink's switch delivers the frames; where each MAC lives is the lab's to say, not the wire's.
      sh`bridge link set dev ${s.overlayDev} learning off`,
      [sh`cn_fdb_only - ${s.overlayDev} master`, ...remoteMacs.map((m) => sh`${m.mac}`)].join(" "),
    );
    owns.push({ kind: "link", name: s.overlayDev });
  } else if (s.mode === "bridged" && host.lanPort) {
    // The LAN port is the host's (real hosts) or the host stage's (emulated): released with the bridge, never deleted.
    apply.push(sh`ip link set ${host.lanPort} master ${s.bridge} up`);
  }
  if (host.lanPort && s.mode !== "bridged") {
    // A segment that was bridged before lets the LAN port go: it is no longer on the physical LAN.
    apply.push(sh`if ip -o link show dev ${host.lanPort} 2>/dev/null | grep -q " master ${s.bridge} "; then ip link set dev ${host.lanPort} nomaster; fi`);
  }
  // On real hosts VMs' TAPs and namespace guests' veths (named by the lab) outlive a bridge: a rebuilt one takes back those that exist.
  if (host.target.kind !== "emulated") {
    for (const g of lab.guests.filter((x) => x.host === host.name && (x.compute.kind === "vm" || x.compute.kind === "namespace"))) {
      for (const n of g.nics.filter((x) => x.segment === s.name)) {
        apply.push(sh`if ! cn_link_missing ${n.hostDev}; then ip link set ${n.hostDev} master ${s.bridge}; fi`);
      }
    }
  }
  if (s.gateway?.host === host.name) {
    const r = routerLines(lab, host, s);
    apply.push(...r.apply);
    owns.push(...r.owns);
  }
  return { apply, owns };
}

/**
 * The segment's router namespace on its gateway host: `gw0` on the bridge with the gateway
 * address(es), `ext0` linked to the host, which routes the subnet to it. The link's /30 is chosen on
 * the host at apply time, so labs that share a host never pick the same one.
 */
function routerLines(lab: ResolvedLab, host: Host, s: Segment): { apply: string[]; owns: Owned[] } {
  const gw = s.gateway!;
  const r = gw.router;
  const mac = routerMac(lab, s);
  const start = linkNumber(r.hostLinkAddress.toString());
  const apply = [
    `# router of segment ${s.name}: namespace ${r.netns}`,
    ...recorded(lab, host, [r.bridgePort, r.hostLink]),
    sh`cn_netns_add ${r.netns}`,
    sh`ip -n ${r.netns} link set lo up`,
    sh`if cn_link_missing ${r.bridgePort}; then ip link add ${r.bridgePort} mtu ${s.mtu} type veth peer name gw0 netns ${r.netns} address ${mac} mtu ${s.mtu}; fi`,
    sh`ip link set dev ${r.bridgePort} mtu ${s.mtu} master ${s.bridge} up`,
    sh`cn_fdb_only - ${r.bridgePort} master ${mac}`,
    sh`ip -n ${r.netns} link set dev gw0 mtu ${s.mtu}`,
    // A subnet or gateway that changed leaves no old address behind (removed first: removing a
    // primary address would take a new secondary one with it).
    [sh`cn_addrs_only ${r.netns} gw0 any ${gw.address.toString()}/${s.cidr.prefixLength}`, ...(gw.address6 && s.cidr6 ? [sh`${gw.address6.toString()}/${s.cidr6.prefixLength}`] : [])].join(" "),
    sh`ip -n ${r.netns} addr replace ${gw.address.toString()}/${s.cidr.prefixLength} dev gw0`,
    ...(gw.address6 && s.cidr6 ? [sh`ip -n ${r.netns} -6 addr replace ${gw.address6.toString()}/${s.cidr6.prefixLength} dev gw0 nodad`] : []),
    sh`ip -n ${r.netns} link set gw0 up`,
    sh`if cn_link_missing ${r.hostLink}; then ip link add ${r.hostLink} type veth peer name ext0 netns ${r.netns}; fi`,
    sh`read -r cn_host cn_router < <(cn_router_link ${r.hostLink} ${start})`,
    sh`ip addr replace "$cn_host/30" dev ${r.hostLink}`,
    sh`sysctl -qw net/ipv4/conf/${r.hostLink}/forwarding=1`,
    sh`ip link set ${r.hostLink} up`,
    sh`ip -n ${r.netns} addr replace "$cn_router/30" dev ext0`,
    sh`ip -n ${r.netns} link set ext0 up`,
    sh`ip -n ${r.netns} route replace default via "$cn_host"`,
    sh`ip netns exec ${r.netns} sysctl -qw net.ipv4.ip_forward=1`,
    sh`ip netns exec ${r.netns} sysctl -qw net.ipv6.conf.all.forwarding=${gw.address6 ? 1 : 0}`,
    sh`cn_route_put ${stateScope(lab, host.name)} ${lab.prefix} ${s.cidr.toString()} via "$cn_router" dev ${r.hostLink}`,
  ];
  return {
    apply,
    owns: [
      { kind: "netns", name: r.netns }, { kind: "link", name: r.bridgePort }, { kind: "link", name: r.hostLink },
      { kind: "route", to: s.cidr.toString() },
    ],
  };
}

/** The MAC of a segment's router (`gw0`), the same wherever it runs. */
export function routerMac(lab: ResolvedLab, s: Segment): string {
  return MacAddress.derive(`${lab.name}/router/${s.name}`).toString();
}

/** The MACs of a segment that live on its other hosts (guests' NICs, the router), with those hosts' underlay addresses. */
export function l2Population(lab: ResolvedLab, host: Host, s: Segment): Array<{ mac: string; underlay: string }> {
  const out = (nicsBySegment(lab).get(s.name) ?? []).filter((n) => n.host !== host.name && s.hosts.includes(n.host)).map(({ mac, underlay }) => ({ mac, underlay }));
  if (s.gateway && s.gateway.host !== host.name) out.push({ mac: routerMac(lab, s), underlay: underlayOf(lab, s.gateway.host) });
  return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}

interface PlacedNic {
  readonly host: string;
  readonly mac: string;
  readonly underlay: string;
}

const placedNics = new WeakMap<ResolvedLab, Map<string, PlacedNic[]>>();

/** Every guest NIC by segment, with its host: computed once per lab (each host's every segment asks). */
function nicsBySegment(lab: ResolvedLab): Map<string, PlacedNic[]> {
  let bySegment = placedNics.get(lab);
  if (!bySegment) {
    bySegment = new Map();
    const underlays = new Map(lab.hosts.map((h) => [h.name, h.underlay.toString()]));
    for (const g of lab.guests) {
      for (const n of g.nics) {
        const list = bySegment.get(n.segment) ?? [];
        list.push({ host: g.host, mac: n.mac.toString(), underlay: underlays.get(g.host)! });
        bySegment.set(n.segment, list);
      }
    }
    placedNics.set(lab, bySegment);
  }
  return bySegment;
}

function underlayOf(lab: ResolvedLab, hostName: string): string {
  return lab.hosts.find((h) => h.name === hostName)!.underlay.toString();
}

/** The number of a router link in 169.254.0.0/16 (4 addresses each) from its host address. */
function linkNumber(hostAddress: string): number {
  const [, , c, d] = hostAddress.split(".").map(Number);
  return (c * 256 + d - 1) / 4;
}

/** Floating IPs answered by this host on its uplink (it is their segment's gateway). */
function floatingIpsOn(lab: ResolvedLab, host: Host): string[] {
  const gw = new Set(lab.segments.filter((s) => s.gateway?.host === host.name).map((s) => s.name));
  return lab.guests.flatMap((g) => g.nics.filter((n) => n.floatingIp && gw.has(n.segment)).map((n) => n.floatingIp!.toString()));
}

/** Routes to routed segments through their gateway hosts, for any node but the gateway itself. */
export function routesToRoutedSegments(lab: ResolvedLab, fromHost?: string): Array<{ to: string; via: string }> {
  return lab.segments
    .filter((s) => s.mode === "routed" && s.gateway && s.gateway.host !== fromHost)
    .map((s) => ({ to: s.cidr, via: lab.hosts.find((h) => h.name === s.gateway!.host)!.underlay }))
    .filter((r) => r.via.family === r.to.family)
    .map((r) => ({ to: r.to.toString(), via: r.via.toString() }));
}

/** A host reaches routed segments through their gateway host, and externals' extra addresses through them. */
export function routesFor(lab: ResolvedLab, host: Host): Array<{ to: string; via: string }> {
  const toExternals = lab.externals.flatMap((e) =>
    e.addresses.filter((a) => a.family === e.address.family).map((a) => ({ to: a.toString(), via: e.address.toString() })));
  return [...routesToRoutedSegments(lab, host.name), ...toExternals];
}
