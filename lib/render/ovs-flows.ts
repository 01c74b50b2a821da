import { kernelName } from "../net";
import { Host, OverlayCluster, ResolvedLab, Segment } from "../model";
import { qosFlows } from "./ovs-qos";
import { routerMac } from "./segments";

/**
 * The tunnel bridge's flow tables, numbered as Neutron's OVS agent numbers them, so that the classic
 * material reads straight onto a lab: each entry is what the README documents and `cloudnet flows` names.
 */
export const TUNNEL_TABLES = {
  classify: { id: 0, what: "classify by in-port: from the integration bridge to 2, from a tunnel to 4, else drop" },
  split: { id: 2, what: "unicast to 20, broadcast and multicast to 22 (ARP requests to 21 first, with L2 population)" },
  tunnelToVlan: { id: 4, what: "inbound: the tunnel id to the network's local VLAN, then 10, from the hosts that carry the network only; any other id or tunnel is dropped" },
  learn: { id: 10, what: "learn() where the source MAC lives (into 20), then to the integration bridge" },
  unicast: { id: 20, what: "outbound unicast: local VLAN and MAC to the tunnel of the MAC's host (L2 population, learned); unknown to 22" },
  arpResponder: { id: 21, what: "ARP responder: requests for the network's remote addresses answered on this host, for local ones dropped (the owner answers); others to 22" },
  flood: { id: 22, what: "outbound flood: the local VLAN stripped, the tunnel id set, out of the tunnels of the hosts that carry the network" },
} as const;

/** The patch ports that join a cluster's two bridges on a host: the integration bridge's and the tunnel bridge's. */
export function patchPorts(lab: ResolvedLab, cluster: OverlayCluster): { onIntegration: string; onTunnel: string } {
  return { onIntegration: kernelName(lab.prefix, "pt", cluster.name), onTunnel: kernelName(lab.prefix, "pi", cluster.name) };
}

/**
 * The patch ports that join the integration bridge to an emulated host's provider bridge (the OVS
 * bridge that holds its fabric link `tun0` and its tunnel address), for VLAN networks.
 */
export function providerPatchPorts(lab: ResolvedLab, cluster: OverlayCluster): { onIntegration: string; onProvider: string } {
  return { onIntegration: kernelName(lab.prefix, "pv", cluster.name), onProvider: kernelName(lab.prefix, "pw", cluster.name) };
}

/** The provider bridge's one table. */
export const PROVIDER_TABLES = {
  trunk: {
    id: 0,
    what: "trunk: a VLAN network's frames from the integration bridge leave on the fabric link tagged with the network's VLAN id, and come back from it with the local VLAN; other tagged frames dropped; untagged ones (the host's tunnel address) to the normal switch",
  },
} as const;

/** Whether the cluster's tunnels carry network `s` (by its VNI), rather than the provider bridges' VLAN trunk. */
export function tunnelled(s: Segment): boolean {
  return s.vni !== undefined;
}

/** The tunnel port to host `remote`, named after it. */
export function tunnelPort(lab: ResolvedLab, remote: string): string {
  return kernelName(lab.prefix, "n", remote);
}

/** A guest NIC or router port of a cluster network (`router.<network>`), where it lives, with its IPv4 addresses. */
export interface Endpoint {
  readonly name: string;
  readonly host: string;
  readonly mac: string;
  readonly ips: readonly string[];
}

/** The endpoints of network `s`, by MAC. */
export function endpoints(lab: ResolvedLab, s: Segment): Endpoint[] {
  const out: Endpoint[] = [];
  for (const g of lab.guests) {
    for (const n of g.nics.filter((x) => x.segment === s.name)) out.push({ name: g.name, host: g.host, mac: n.mac.toString(), ips: n.address.family === 4 ? [n.address.toString()] : [] });
  }
  if (s.gateway) out.push({ name: `router.${s.name}`, host: s.gateway.host, mac: routerMac(lab, s), ips: s.gateway.address.family === 4 ? [s.gateway.address.toString()] : [] });
  return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}

/** The networks of the cluster on `host`, by local VLAN. */
export function clusterSegmentsOn(lab: ResolvedLab, cluster: OverlayCluster, host: string): Segment[] {
  return lab.segments.filter((s) => s.cluster === cluster.name && s.localVlans?.[host] !== undefined)
    .sort((a, b) => a.localVlans![host] - b.localVlans![host]);
}

/** The other hosts of the cluster that share a network with `host`: those it has a tunnel to. */
export function tunnelPeers(lab: ResolvedLab, cluster: OverlayCluster, host: string): string[] {
  const peers = new Set<string>();
  for (const s of clusterSegmentsOn(lab, cluster, host).filter(tunnelled)) for (const h of s.hosts) if (h !== host) peers.add(h);
  return [...peers].sort();
}

/** The integration bridge's one table (Neutron keeps the same check in its table 25). */
export const INTEGRATION_TABLES = {
  sourceCheck: {
    id: 0,
    what: "source check: a frame enters only from where its source MAC lives (a local one's from its network's port, a remote one's from the tunnel bridge with its network's VLAN), then the normal switch (or, on a host with switch-port QoS, table 1); others dropped",
  },
  qos: {
    id: 1,
    what: "QoS (hosts with switch-port policies): traffic into a network's guests here gets its class's queue (set_queue) or passes the network's meter, as does traffic out of a metered network; then the normal switch",
  },
} as const;

/**
 * The integration bridge's flows: a normal (learning, VLAN-aware) switch behind a source check. The
 * lab knows every MAC of its networks and where it lives (remote ones behind the tunnel bridge's patch,
 * or the provider bridge's for VLAN networks), so a guest forging another's MAC (a remote
 * one's, to draw its traffic, or the router's) teaches the switch nothing, and neither does a frame
 * from a tunnel with a local MAC as its source.
 */
export function integrationFlows(lab: ResolvedLab, cluster: OverlayCluster, host: Host): string[] {
  const c = `cookie=${cluster.cookie},table=${INTEGRATION_TABLES.sourceCheck.id}`;
  const qos = qosFlows(lab, cluster, host, INTEGRATION_TABLES.qos.id);
  const next = qos.length > 0 ? `resubmit(,${INTEGRATION_TABLES.qos.id})` : "NORMAL";
  const flows: string[] = [];
  for (const s of clusterSegmentsOn(lab, cluster, host.name)) {
    const patch = tunnelled(s) ? patchPorts(lab, cluster).onIntegration : providerPatchPorts(lab, cluster).onIntegration;
    for (const e of endpoints(lab, s)) {
      const from = e.host === host.name ? `in_port=${s.ovsPort!}` : `in_port=${patch},dl_vlan=${s.localVlans![host.name]}`;
      flows.push(`${c},priority=1,${from},dl_src=${e.mac},actions=${next}`);
    }
  }
  flows.push(`${c},priority=0,actions=drop`);
  return [...flows, ...qos];
}

/** The tunnel bridge's flows on `host`, table by table (see TUNNEL_TABLES). */
export function tunnelFlows(lab: ResolvedLab, cluster: OverlayCluster, host: Host): string[] {
  const t = TUNNEL_TABLES;
  const c = `cookie=${cluster.cookie}`;
  const patch = patchPorts(lab, cluster).onTunnel;
  const peers = tunnelPeers(lab, cluster, host.name);
  const flows = [
    `${c},table=${t.classify.id},priority=1,in_port=${patch},actions=resubmit(,${t.split.id})`,
    ...peers.map((p) => `${c},table=${t.classify.id},priority=1,in_port=${tunnelPort(lab, p)},actions=resubmit(,${t.tunnelToVlan.id})`),
    `${c},table=${t.classify.id},priority=0,actions=drop`,
    ...(cluster.l2Population ? [`${c},table=${t.split.id},priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff,actions=resubmit(,${t.arpResponder.id})`] : []),
    `${c},table=${t.split.id},priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00,actions=resubmit(,${t.unicast.id})`,
    `${c},table=${t.split.id},priority=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=resubmit(,${t.flood.id})`,
  ];
  const segments = clusterSegmentsOn(lab, cluster, host.name).filter(tunnelled);
  // A tunnel id is taken only from the tunnels of the hosts that carry its network: a lab host that
  // shares another network only cannot inject into this one (nor can GRE, which no INPUT rule reads).
  for (const s of segments) {
    for (const peer of s.hosts.filter((h) => h !== host.name)) {
      flows.push(`${c},table=${t.tunnelToVlan.id},priority=1,in_port=${tunnelPort(lab, peer)},tun_id=${hex(s.vni!)},actions=mod_vlan_vid:${s.localVlans![host.name]},resubmit(,${t.learn.id})`);
    }
  }
  flows.push(
    `${c},table=${t.tunnelToVlan.id},priority=0,actions=drop`,
    // Learned entries have a cookie of their own (an apply that changes nothing leaves them be) and lose to L2
    // population's (priority 2): a forged source MAC from a tunnel never redirects a MAC the lab placed.
    `${c},table=${t.learn.id},priority=1,actions=learn(table=${t.unicast.id},hard_timeout=300,priority=1,cookie=${cluster.learnedCookie},NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:${patch}`,
  );
  for (const s of segments) {
    const vlan = s.localVlans![host.name];
    const all = endpoints(lab, s);
    if (cluster.l2Population) {
      for (const e of all.filter((x) => x.host !== host.name)) {
        flows.push(`${c},table=${t.unicast.id},priority=2,dl_vlan=${vlan},dl_dst=${e.mac},actions=strip_vlan,set_tunnel:${hex(s.vni!)},output:${tunnelPort(lab, e.host)}`);
      }
      // Remote addresses are answered here. A request for a local one is dropped: its owner has had
      // the integration bridge's copy and answers itself. Answering it here would teach the
      // integration bridge that the local MAC lives behind the patch port, and it would then drop
      // the frames for that MAC that come from the tunnels.
      for (const e of all) {
        for (const ip of e.ips) {
          const action = e.host === host.name ? "drop" : arpReply(e.mac, ip);
          flows.push(`${c},table=${t.arpResponder.id},priority=1,arp,arp_op=1,dl_vlan=${vlan},arp_tpa=${ip},actions=${action}`);
        }
      }
    }
    const out = s.hosts.filter((h) => h !== host.name).map((h) => `output:${tunnelPort(lab, h)}`);
    flows.push(`${c},table=${t.flood.id},priority=1,dl_vlan=${vlan},actions=${out.length ? `strip_vlan,set_tunnel:${hex(s.vni!)},${out.join(",")}` : "drop"}`);
  }
  flows.push(
    `${c},table=${t.unicast.id},priority=0,actions=resubmit(,${t.flood.id})`,
    ...(cluster.l2Population ? [`${c},table=${t.arpResponder.id},priority=0,actions=resubmit(,${t.flood.id})`] : []),
    `${c},table=${t.flood.id},priority=0,actions=drop`,
  );
  return flows;
}

/**
 * An emulated host's provider bridge (see PROVIDER_TABLES): its VLAN networks trunked over the fabric
 * link, with the local VLAN swapped for the network's VLAN id on the way out and back on the way in.
 */
export function providerFlows(lab: ResolvedLab, cluster: OverlayCluster, host: Host): string[] {
  const c = `cookie=${cluster.cookie},table=${PROVIDER_TABLES.trunk.id}`;
  const te = host.tunnelEndpoint!;
  const patch = providerPatchPorts(lab, cluster).onProvider;
  const flows: string[] = [];
  const vlans = clusterSegmentsOn(lab, cluster, host.name).filter((s) => !tunnelled(s));
  for (const s of vlans) {
    const local = s.localVlans![host.name];
    flows.push(
      `${c},priority=2,in_port=${patch},dl_vlan=${local},actions=mod_vlan_vid:${s.vlan!},output:${te.dev}`,
      `${c},priority=2,in_port=${te.dev},dl_vlan=${s.vlan!},actions=mod_vlan_vid:${local},output:${patch}`,
    );
  }
  if (vlans.length > 0) flows.push(`${c},priority=1,in_port=${patch},actions=drop`);
  flows.push(`${c},priority=1,in_port=${te.dev},vlan_tci=0x1000/0x1000,actions=drop`, `${c},priority=0,actions=NORMAL`);
  return flows;
}

/** Turns an ARP request into the reply from `mac` for `ip`, sent back where it came from. */
function arpReply(mac: string, ip: string): string {
  const macHex = `0x${mac.replace(/:/g, "")}`;
  const ipHex = `0x${ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).join("")}`;
  return [
    "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]", `mod_dl_src:${mac}`, "load:0x2->NXM_OF_ARP_OP[]",
    "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]", "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
    `load:${macHex}->NXM_NX_ARP_SHA[]`, `load:${ipHex}->NXM_OF_ARP_SPA[]`, "in_port",
  ].join(",");
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
