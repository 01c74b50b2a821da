import { heredoc, sh } from "../net";
import { CALICO_HOST_MAC, CALICO_VXLAN_PORT, CALICO_VXLAN_VNI, Host, Pod, PodNetwork, PodNode, ResolvedLab } from "../model";
import { BIRD_DIR, birdConfig } from "./bird";
import { stateScope } from "./converge";
import { applyScript, freshNetns, keepOnTeardown } from "./script";
import { Owned, Stage } from "./stage";

export const podNodeStageId = (host: string) => `pods/${host}`;
export const podStageId = (pod: string) => `pod/${pod}`;

/** The lab's BIRD directory on a host (its state scope: an emulated host's namespace, or the host). */
export function birdDir(lab: ResolvedLab, host: string): string {
  return `${BIRD_DIR}/${stateScope(lab, host)}`;
}

/** What carries a Calico block to a node: the underlay as it is, or the node's tunnel. */
function encapsulated(network: PodNetwork, from: Host, to: Host): boolean {
  const b = network.backend;
  if (b.kind !== "calico" || b.encapsulation === "none") return false;
  if (!b.crossSubnet) return true;
  const cidr = network.underlayCidr!;
  return !(cidr.contains(from.underlay) && cidr.contains(to.underlay));
}

/** Whether the node's routes come from BGP (Calico without encapsulation) rather than from the topology. */
export function usesBgp(network: PodNetwork): boolean {
  return network.backend.kind === "calico" && network.backend.encapsulation === "none";
}

/**
 * A node's part of its pod networks, each as its backend is documented to build it:
 * - Flannel VXLAN: the pods' bridge (`cni0`) with the subnet's first address; a VTEP (`flannel.<VNI>`)
 *   holding the subnet's network address as a /32, and per remote node a permanent neighbour entry
 *   (its VTEP address to its VTEP MAC), a forwarding entry (that MAC to its underlay address) and an
 *   onlink route to its subnet via its VTEP address; all from the topology: the device learns nothing.
 * - Flannel host-gw: the bridge, and a route per remote subnet via the remote node's underlay address.
 * - Calico: no bridge; the node's BIRD announces its block over BGP and installs the others' (no
 *   encapsulation), or, encapsulated (IPIP, VXLAN), routes into the node's tunnel device written from
 *   the topology, as Calico's Felix writes them in VXLAN mode.
 * Forwarding is turned on for the uplink only (held per lab); the lab's own devices get theirs set.
 */
export function renderPodNode(lab: ResolvedLab, host: Host, after: readonly string[]): Stage | undefined {
  const networks = lab.podNetworks.filter((n) => n.nodes.some((x) => x.host === host.name));
  if (networks.length === 0) return undefined;
  const scope = stateScope(lab, host.name);
  const real = host.target.kind !== "emulated";
  const key = `net/ipv4/conf/${host.uplink}/forwarding`;
  const body: string[] = [sh`cn_sysctl_hold ${key} ${scope} ${lab.prefix}`, sh`sysctl -qw ${key}=1`];
  const owns: Owned[] = [{ kind: "sysctl", key }];
  const record = (dev: string) => (real ? [sh`cn_link_record ${scope} ${lab.prefix} ${dev}`] : []);
  const route = (to: string, ...args: string[]) => {
    owns.push({ kind: "route", to });
    return [sh`cn_route_put ${scope} ${lab.prefix} ${to}`, ...args].join(" ");
  };
  const hostOf = (name: string) => lab.hosts.find((h) => h.name === name)!;
  for (const net of networks) {
    const node = net.nodes.find((n) => n.host === host.name)!;
    const remotes = net.nodes.filter((n) => n.host !== host.name);
    body.push(`# pod network ${net.name} (${net.backend.kind}, ${net.cidr}): subnet ${node.subnet}, MTU ${net.mtu}`);
    if (node.bridge && node.gateway) {
      body.push(
        ...record(node.bridge),
        sh`if cn_link_missing ${node.bridge}; then ip link add ${node.bridge} mtu ${net.mtu} type bridge; fi`,
        sh`ip link set dev ${node.bridge} mtu ${net.mtu}`,
        sh`cn_addrs_only - ${node.bridge} any ${`${node.gateway}/${node.subnet.prefixLength}`}`,
        sh`ip addr replace ${`${node.gateway}/${node.subnet.prefixLength}`} dev ${node.bridge}`,
        sh`sysctl -qw net/ipv4/conf/${node.bridge}/forwarding=1 net/ipv6/conf/${node.bridge}/disable_ipv6=1`,
        sh`ip link set ${node.bridge} up`,
      );
      owns.push({ kind: "link", name: node.bridge });
    }
    const b = net.backend;
    if (b.kind === "flannel-vxlan" && node.vtep) {
      body.push(...vtepLines(record, host, node.vtep, b.vni, b.port, net.mtu));
      body.push(
        [sh`cn_neigh_only ${node.vtep.dev}`, ...remotes.map((r) => sh`${`${r.vtep!.address}@${r.vtep!.mac}`}`)].join(" "),
        [sh`cn_fdb_only - ${node.vtep.dev} self`, ...remotes.map((r) => sh`${`${r.vtep!.mac}@${hostOf(r.host).underlay}`}`)].join(" "),
        ...remotes.map((r) => route(r.subnet.toString(), sh`via ${r.vtep!.address.toString()} dev ${node.vtep!.dev} onlink`)),
      );
      owns.push({ kind: "link", name: node.vtep.dev });
    } else if (b.kind === "flannel-host-gw") {
      body.push(...remotes.map((r) => route(r.subnet.toString(), sh`via ${hostOf(r.host).underlay.toString()} dev ${host.uplink}`)));
    } else if (b.kind === "calico") {
      body.push(...calicoLines(lab, net, host, node, remotes, record, route));
      if (usesBgp(net)) owns.push({ kind: "bird" });
      if (node.tunnel) owns.push({ kind: "link", name: node.tunnel.dev });
    }
    // The host ends of its pods' veths are the lab's too (made by the pods' stages).
    for (const p of net.pods.filter((x) => x.node === host.name)) owns.push({ kind: "link", name: p.hostDev });
  }
  const title = `pod networks on ${host.name}: ${networks.map((n) => n.name).join(",")}`;
  return {
    id: podNodeStageId(host.name), runOn: { kind: "host", host: host.name }, title, after,
    apply: applyScript(title, body, []),
    teardown: keepOnTeardown(title),
    owns,
  };
}

/** A VXLAN device with fixed VNI, port, local address and MAC that never learns; made again when one of those differs. */
function vtepLines(record: (dev: string) => string[], host: Host, vtep: NonNullable<PodNode["vtep"]>, vni: number, port: number, mtu: number): string[] {
  const local = host.underlay.toString();
  return [
    ...record(vtep.dev),
    `${sh`if ! cn_link_missing ${vtep.dev} && ! { cn_vxlan_is ${vtep.dev} ${vni} ${local} && ip -o -d link show dev ${vtep.dev} | grep -q`} " dstport ${sh`${port}`} "; }; then ${sh`ip link del dev ${vtep.dev}`}; fi`,
    sh`if cn_link_missing ${vtep.dev}; then ip link add ${vtep.dev} mtu ${mtu} address ${vtep.mac.toString()} type vxlan id ${vni} local ${local} dev ${host.uplink} dstport ${port} nolearning; fi`,
    sh`cn_mac ${vtep.dev} ${vtep.mac.toString()}`,
    sh`ip link set dev ${vtep.dev} mtu ${mtu}`,
    sh`cn_addrs_only - ${vtep.dev} any ${`${vtep.address}/32`}`,
    sh`ip addr replace ${`${vtep.address}/32`} dev ${vtep.dev}`,
    sh`sysctl -qw net/ipv4/conf/${vtep.dev}/forwarding=1 net/ipv6/conf/${vtep.dev}/disable_ipv6=1`,
    sh`ip link set ${vtep.dev} up`,
  ];
}

function calicoLines(
  lab: ResolvedLab, net: PodNetwork, host: Host, node: PodNode, remotes: readonly PodNode[],
  record: (dev: string) => string[], route: (to: string, ...args: string[]) => string,
): string[] {
  const b = net.backend;
  if (b.kind !== "calico") return [];
  const hostOf = (name: string) => lab.hosts.find((h) => h.name === name)!;
  const lines: string[] = [];
  if (usesBgp(net)) {
    lines.push(heredoc(sh`cn_bird_up ${birdDir(lab, host.name)} ${lab.prefix}`, birdConfig(lab, net, host)));
    return lines;
  }
  const t = node.tunnel!;
  if (b.encapsulation === "vxlan") {
    lines.push(...vtepLines(record, host, { dev: t.dev, mac: t.mac!, address: t.address }, CALICO_VXLAN_VNI, CALICO_VXLAN_PORT, net.mtu));
  } else {
    // IPIP: a tunnel without a fixed remote (as tunl0), the block's first address on it.
    lines.push(
      ...record(t.dev),
      sh`if cn_link_missing ${t.dev}; then ip link add ${t.dev} mtu ${net.mtu} type ipip local ${host.underlay.toString()} dev ${host.uplink}; fi`,
      sh`ip link set dev ${t.dev} mtu ${net.mtu}`,
      sh`cn_addrs_only - ${t.dev} any ${`${t.address}/32`}`,
      sh`ip addr replace ${`${t.address}/32`} dev ${t.dev}`,
      sh`sysctl -qw net/ipv4/conf/${t.dev}/forwarding=1`,
      sh`ip link set ${t.dev} up`,
    );
  }
  const tunneled = remotes.filter((r) => encapsulated(net, host, hostOf(r.host)));
  if (b.encapsulation === "vxlan") {
    lines.push(
      [sh`cn_neigh_only ${t.dev}`, ...tunneled.map((r) => sh`${`${r.tunnel!.address}@${r.tunnel!.mac}`}`)].join(" "),
      [sh`cn_fdb_only - ${t.dev} self`, ...tunneled.map((r) => sh`${`${r.tunnel!.mac}@${hostOf(r.host).underlay}`}`)].join(" "),
    );
  }
  // Blackhole for the node's own block, as Calico has it: an unused address is dropped here, not routed back out.
  lines.push(route(node.subnet.toString(), "blackhole"));
  for (const r of remotes) {
    const to = r.subnet.toString();
    if (!tunneled.includes(r)) lines.push(route(to, sh`via ${hostOf(r.host).underlay.toString()} dev ${host.uplink}`));
    else if (b.encapsulation === "vxlan") lines.push(route(to, sh`via ${r.tunnel!.address.toString()} dev ${t.dev} onlink`));
    else lines.push(route(to, sh`via ${hostOf(r.host).underlay.toString()} dev ${t.dev} onlink`));
  }
  return lines;
}

/**
 * A pod as a CNI plugin plumbs it: a namespace with one veth. Flannel: the host end on the node's
 * bridge, the bridge's address as the default gateway. Calico: the host end routed (a /32 to the pod
 * through it), answering ARP for anything (proxy ARP), so the pod's default route via 169.254.1.1
 * lands on the node; strict reverse-path filtering there drops what the pod sends from an address
 * not its own.
 */
export function renderPod(lab: ResolvedLab, pod: Pod, after: readonly string[]): Stage {
  const host = lab.hosts.find((h) => h.name === pod.node)!;
  const net = lab.podNetworks.find((n) => n.name === pod.network)!;
  const node = net.nodes.find((n) => n.host === pod.node)!;
  const ns = pod.netns;
  const hostNs = host.netns;
  const onHost = hostNs ? sh`ip -n ${hostNs}` : "ip";
  const inHost = hostNs ? sh`ip netns exec ${hostNs} ` : "";
  const real = host.target.kind !== "emulated";
  const title = `pod ${pod.name} on ${pod.node} (${pod.address})`;
  const dev = pod.guestDev;
  const fresh = freshNetns(ns, sh`cn_netns_del ${ns} ${dev}`);
  const body = [
    fresh.check,
    sh`cn_netns_add ${ns}`,
    sh`ip -n ${ns} link set lo up`,
    ...(real ? [sh`cn_link_record ${stateScope(lab, host.name)} ${lab.prefix} ${pod.hostDev}`] : []),
    `${sh`if ! cn_link_missing ${dev} ${ns} && cn_link_missing ${pod.hostDev}`}${hostNs ? sh` ${hostNs}` : ""}${sh`; then ip -n ${ns} link del ${dev}; fi`}`,
    `${sh`if cn_link_missing ${dev} ${ns}; then ip link add ${dev} netns ${ns} address ${pod.mac.toString()} mtu ${net.mtu} type veth peer name ${pod.hostDev}`}${hostNs ? sh` netns ${hostNs}` : ""}${sh` mtu ${net.mtu}; fi`}`,
    sh`cn_mac ${dev} ${pod.mac.toString()} ${ns}`,
    sh`ip -n ${ns} link set dev ${dev} mtu ${net.mtu} up`,
    `${onHost} ${sh`link set dev ${pod.hostDev} mtu ${net.mtu}`}`,
    [sh`cn_addrs_only ${ns} ${dev} any`, sh`${`${pod.address}/${pod.prefixLength}`}`].join(" "),
    sh`ip -n ${ns} addr replace ${`${pod.address}/${pod.prefixLength}`} dev ${dev}`,
  ];
  if (node.bridge) {
    body.push(
      `${onHost} ${sh`link set dev ${pod.hostDev} master ${node.bridge} up`}`,
      // The bridge knows the pod's MAC from the lab: another pod forging it moves nothing.
      sh`cn_fdb_only ${hostNs ?? "-"} ${pod.hostDev} master ${pod.mac.toString()}`,
      sh`ip -n ${ns} route replace default via ${pod.gateway.toString()} dev ${dev}`,
    );
  } else {
    body.push(
      `${onHost} ${sh`link set dev ${pod.hostDev} nomaster up`}`,
      `${sh`cn_mac ${pod.hostDev} ${CALICO_HOST_MAC}`}${hostNs ? sh` ${hostNs}` : ""}`,
      `${inHost}${sh`sysctl -qw net/ipv4/conf/${pod.hostDev}/proxy_arp=1 net/ipv4/neigh/${pod.hostDev}/proxy_delay=0 net/ipv4/conf/${pod.hostDev}/forwarding=1 net/ipv4/conf/${pod.hostDev}/rp_filter=1 net/ipv6/conf/${pod.hostDev}/disable_ipv6=1`}`,
      `${onHost} ${sh`route replace ${`${pod.address}/32`} dev ${pod.hostDev} scope link`}`,
      // Both neighbours written, not resolved: the node knows the pod's MAC, the pod its gateway's (the
      // host end's, answering for 169.254.1.1, which the node need not route).
      `${onHost} ${sh`neigh replace ${pod.address.toString()} lladdr ${pod.mac.toString()} dev ${pod.hostDev} nud permanent`}`,
      sh`ip -n ${ns} route replace ${pod.gateway.toString()} dev ${dev} scope link`,
      sh`ip -n ${ns} neigh replace ${pod.gateway.toString()} lladdr ${CALICO_HOST_MAC} dev ${dev} nud permanent`,
      sh`ip -n ${ns} route replace default via ${pod.gateway.toString()} dev ${dev}`,
    );
  }
  return {
    id: podStageId(pod.name),
    runOn: hostNs ? { kind: "controller" } : { kind: "host", host: host.name },
    title, after,
    apply: applyScript(title, body, [fresh.rollback]),
    teardown: keepOnTeardown(`pod ${pod.name}`),
    owns: [{ kind: "netns", name: ns }],
  };
}
