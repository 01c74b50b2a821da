import { heredoc, sh } from "../net";
import { Host, OverlayCluster, ResolvedLab, Segment } from "../model";
import { clusterSegmentsOn, integrationFlows, patchPorts, providerFlows, providerPatchPorts, tunnelFlows, tunnelPeers, tunnelPort, tunnelled } from "./ovs-flows";
import { ovsMeterPruneLine, ovsQosLines } from "./ovs-qos";
import { Owned } from "./stage";
import { l2Population } from "./segments";

/** OpenFlow versions the lab's bridges speak: 1.0 for ovs-ofctl's defaults, 1.4 for bundles. */
const PROTOCOLS = "OpenFlow10,OpenFlow13,OpenFlow14";

/** How a host's scripts reach its switch: its own daemons (emulated) or the system's. */
export interface OvsAccess {
  /** ovs-vsctl with its database. */
  readonly vsctl: string;
  /** The database for the helpers: unix:SOCKET, or - for the system's. */
  readonly db: string;
  /** ovs-ofctl's target for a bridge. */
  target(bridge: string): string;
  readonly datapath: "netdev" | "system";
}

export function ovsAccess(host: Host): OvsAccess {
  const dir = host.ovsRunDir;
  if (!dir) return { vsctl: "ovs-vsctl", db: "-", target: (b) => b, datapath: "system" };
  return { vsctl: `ovs-vsctl ${sh`--db=unix:${dir}/db.sock`}`, db: `unix:${dir}/db.sock`, target: (b) => `unix:${dir}/${b}.mgmt`, datapath: "netdev" };
}

/** Whether the host carries VLAN networks of the cluster (trunked by its provider bridge). */
function hasVlanNetworks(lab: ResolvedLab, cluster: OverlayCluster, host: Host): boolean {
  return clusterSegmentsOn(lab, cluster, host.name).some((s) => !tunnelled(s));
}

export function clusterOfHost(lab: ResolvedLab, host: Host): OverlayCluster | undefined {
  return lab.clusters.find((c) => c.name === host.cluster);
}

/**
 * A cluster host's switch before its networks plug in: (emulated) its own daemons and the bridge its
 * tunnels start on, then the integration and tunnel bridges, their patch ports, and a tunnel port to
 * each host it shares a network with (others removed).
 */
export function ovsHostLines(lab: ResolvedLab, host: Host, cluster: OverlayCluster): { apply: string[]; owns: Owned[] } {
  const a = ovsAccess(host);
  const te = host.tunnelEndpoint;
  const local = te?.address ?? host.underlay;
  const { onIntegration, onTunnel } = patchPorts(lab, cluster);
  const peers = tunnelPeers(lab, cluster, host.name);
  // VLAN networks reach the fabric through the provider bridge (emulated hosts), patched to the integration bridge.
  const vlans = hasVlanNetworks(lab, cluster, host);
  const provider = providerPatchPorts(lab, cluster);
  const bridge = (b: string) => `${a.vsctl} ${sh`--may-exist add-br ${b} -- set bridge ${b} datapath_type=${a.datapath} fail-mode=secure protocols=${PROTOCOLS}`}`;
  const apply = [
    `# Open vSwitch of cluster ${cluster.name}: ${cluster.tunnel} tunnels from ${local} to ${peers.join(", ") || "no host yet"}`,
    ...(host.ovsRunDir ? [sh`cn_ovs_up ${host.ovsRunDir}`] : []),
    // A network whose local VLAN moves (one with a lower VNI came or went) would share a tag with
    // another while the old flows are in: its port is parked until the new flows are (ovsFlowLines).
    ...clusterSegmentsOn(lab, cluster, host.name).map((s) => sh`cn_ovs_park ${a.db} ${s.ovsPort!} ${s.localVlans![host.name]}`),
  ];
  const owns: Owned[] = [
    { kind: "ovs-bridge", name: cluster.integrationBridge }, { kind: "ovs-bridge", name: cluster.tunnelBridge },
    // Bridges' internal ports are links of their own names.
    { kind: "link", name: cluster.integrationBridge }, { kind: "link", name: cluster.tunnelBridge },
  ];
  if (te) {
    // The userspace datapath sends and receives tunnels through an OVS bridge that holds the local address.
    // Both of the host's fabric addresses answer ARP only on their own link (else either link may
    // answer for both, and tunnels or the host's own traffic go to the wrong one). The bridge's address
    // makes no subnet route: the host's traffic to the fabric stays on its uplink, where its rules
    // expect it, and only the tunnels' routes to the peers use the bridge.
    const peerEndpoints = peers.map((p) => lab.hosts.find((h) => h.name === p)!.tunnelEndpoint!);
    apply.push(
      // Secure: the bridge forwards nothing but by the lab's flows (a new one has none until its bundle below).
      `${a.vsctl} ${sh`--may-exist add-br ${te.bridge} -- set bridge ${te.bridge} datapath_type=netdev fail-mode=secure other-config:hwaddr=${te.mac.toString()} -- --may-exist add-port ${te.bridge} ${te.dev}`}`,
      sh`sysctl -qw net/ipv4/conf/${te.bridge}/arp_ignore=1 net/ipv4/conf/${host.uplink}/arp_ignore=1`,
      sh`ip addr replace ${local.toString()}/${lab.fabric!.cidr.prefixLength} dev ${te.bridge} noprefixroute`,
      sh`cn_addrs_only - ${te.bridge} any ${local.toString()}/${lab.fabric!.cidr.prefixLength}`,
      sh`ip link set ${te.bridge} up`,
      ...peerEndpoints.map((p) => sh`ip route replace ${p.address.toString()}/32 dev ${te.bridge} src ${local.toString()}`),
      [sh`cn_ovs_routes_only ${te.bridge}`, ...peerEndpoints.map((p) => sh`${p.address.toString()}`)].join(" "),
      // The switch learns the peers' MACs from the lab, not by ARP: native tunneling drops a packet
      // whose next hop it has yet to resolve (the first SYN to a new host would be lost).
      ...peerEndpoints.map((p) => sh`ovs-appctl -t ${host.ovsRunDir!}/ovs-vswitchd.ctl tnl/neigh/set ${te.bridge} ${p.address.toString()} ${p.mac.toString()} >/dev/null`),
    );
    // The provider bridge's side of the patch and its flows come first: the patch carries nothing until the
    // integration bridge's side exists (below), and then only what these flows let through.
    if (vlans) apply.push(`${a.vsctl} ${sh`--may-exist add-port ${te.bridge} ${provider.onProvider} -- set interface ${provider.onProvider} type=patch options:peer=${provider.onIntegration}`}`);
    apply.push(
      [sh`cn_ovs_ports_only ${a.db} ${te.bridge} ${te.dev}`, ...(vlans ? [sh`${provider.onProvider}`] : [])].join(" "),
      replaceFlows(a, cluster, te.bridge, providerFlows(lab, cluster, host)),
    );
    owns.push({ kind: "ovs-bridge", name: te.bridge }, { kind: "link", name: te.bridge });
  }
  apply.push(
    bridge(cluster.integrationBridge),
    bridge(cluster.tunnelBridge),
    `${a.vsctl} ${sh`--may-exist add-port ${cluster.integrationBridge} ${onIntegration} -- set interface ${onIntegration} type=patch options:peer=${onTunnel}`}`,
    `${a.vsctl} ${sh`--may-exist add-port ${cluster.tunnelBridge} ${onTunnel} -- set interface ${onTunnel} type=patch options:peer=${onIntegration}`}`,
  );
  if (te && vlans) {
    apply.push(`${a.vsctl} ${sh`--may-exist add-port ${cluster.integrationBridge} ${provider.onIntegration} -- set interface ${provider.onIntegration} type=patch options:peer=${provider.onProvider}`}`);
  }
  for (const p of peers) {
    const remote = lab.hosts.find((h) => h.name === p)!;
    const remoteIp = (remote.tunnelEndpoint?.address ?? remote.underlay).toString();
    const port = tunnelPort(lab, p);
    // Only packets from that host's address arrive on this port: the tunnel bridge takes no other.
    apply.push(`${a.vsctl} ${sh`--may-exist add-port ${cluster.tunnelBridge} ${port} -- set interface ${port} type=${cluster.tunnel} options:remote_ip=${remoteIp} options:local_ip=${local.toString()} options:key=flow`}`);
  }
  apply.push([sh`cn_ovs_ports_only ${a.db} ${cluster.tunnelBridge} ${onTunnel}`, ...peers.map((p) => sh`${tunnelPort(lab, p)}`)].join(" "));
  return { apply, owns };
}

/**
 * After the networks plugged in: the integration bridge keeps only their ports and the patch, and
 * both bridges get their flows, each in one atomic bundle that replaces exactly what differs.
 */
export function ovsFlowLines(lab: ResolvedLab, host: Host, cluster: OverlayCluster): string[] {
  const a = ovsAccess(host);
  const ports = lab.segments.filter((s) => s.cluster === cluster.name && s.hosts.includes(host.name)).map((s) => s.ovsPort!);
  if (hasVlanNetworks(lab, cluster, host)) ports.push(providerPatchPorts(lab, cluster).onIntegration);
  const integration = a.target(cluster.integrationBridge);
  return [
    [sh`cn_ovs_ports_only ${a.db} ${cluster.integrationBridge} ${patchPorts(lab, cluster).onIntegration}`, ...ports.map((p) => sh`${p}`)].join(" "),
    ...ovsQosLines(lab, host, cluster, a.db, integration),
    replaceFlows(a, cluster, cluster.integrationBridge, integrationFlows(lab, cluster, host)),
    ovsMeterPruneLine(lab, host, cluster, integration),
    replaceFlows(a, cluster, cluster.tunnelBridge, tunnelFlows(lab, cluster, host)),
    ...clusterSegmentsOn(lab, cluster, host.name).map((s) => sh`ip link set dev ${s.ovsPort!} up`),
  ];
}

/**
 * A bridge's flows replaced by exactly these, in one bundle, unless they are the ones applied last
 * (see cn_ovs_flows); the flow text is quoted: no shell expansion.
 */
function replaceFlows(a: OvsAccess, cluster: OverlayCluster, bridge: string, flows: readonly string[]): string {
  return heredoc(sh`cn_ovs_flows ${a.db} ${a.target(bridge)} ${bridge} ${cluster.cookie}`, flows.join("\n"));
}

/**
 * A cluster network on a host: its Linux bridge (where security groups apply, as before) plugged into
 * the integration bridge by a veth pair, an access port tagged with the network's local VLAN.
 */
export function ovsSegmentLines(lab: ResolvedLab, host: Host, s: Segment): { apply: string[]; owns: Owned[] } {
  const cluster = lab.clusters.find((c) => c.name === s.cluster)!;
  const a = ovsAccess(host);
  const dev = s.overlayDev!;
  const port = s.ovsPort!;
  return {
    apply: [
      // A VXLAN device of that name is a Linux-bridge version of the network's: made again as a veth.
      sh`if ! cn_link_missing ${dev} && ! ip -o -d link show dev ${dev} | grep -q ' veth '; then ip link del dev ${dev}; fi`,
      sh`if cn_link_missing ${dev}; then ip link add ${dev} mtu ${s.mtu} type veth peer name ${port} mtu ${s.mtu}; fi`,
      // Both ends are L2 only: no IPv6 link-local to talk from (its multicast would cross the tunnels).
      sh`sysctl -qw net/ipv6/conf/${dev}/disable_ipv6=1 net/ipv6/conf/${port}/disable_ipv6=1`,
      sh`ip link set dev ${dev} mtu ${s.mtu} master ${s.bridge} up`,
      // Where each MAC lives is the lab's to say: the remote ones sit behind the integration bridge,
      // so the Linux bridge never floods a frame for a remote guest to the local ones while it learns.
      sh`bridge link set dev ${dev} learning off`,
      [sh`cn_fdb_only - ${dev} master`, ...l2Population(lab, host, s).map((m) => sh`${m.mac}`)].join(" "),
      // Up only once the flows are in (ovsFlowLines).
      sh`ip link set dev ${port} mtu ${s.mtu}`,
      // The userspace datapath reads frames as they are: checksums the sender left to the NIC must be
      // filled in before they enter it (and large segments split).
      sh`ethtool -K ${dev} tx off >/dev/null`,
      sh`ethtool -K ${port} tx off >/dev/null`,
      `${a.vsctl} ${sh`--may-exist add-port ${cluster.integrationBridge} ${port} -- set port ${port} tag=${s.localVlans![host.name]}`}`,
    ],
    owns: [{ kind: "link", name: dev }, { kind: "link", name: port }],
  };
}
