import { MacAddress, sh } from "../net";
import { Host, ResolvedLab, Segment } from "../model";
import { applyScript, teardownScript } from "./script";
import { Stage } from "./stage";

/** All-zero MAC: in a VXLAN FDB it marks the default (flood) destinations. */
const FLOOD_MAC = "00:00:00:00:00:00";
const VXLAN_PORT = 4789;

export function networkStageId(host: string): string {
  return `network/${host}`;
}

/**
 * The segments a host takes part in: a bridge per segment, joined to the other hosts by a VXLAN
 * device with head-end replication (one flood entry per remote host), a VLAN device on the uplink,
 * or the host's LAN port (bridged). Gateways, floating IPs and routes to routed segments come with
 * them. Returns undefined when the host has none of these.
 */
export function renderHostNetwork(lab: ResolvedLab, host: Host, after: readonly string[]): Stage | undefined {
  const segments = lab.segments.filter((s) => s.hosts.includes(host.name));
  const routes = routesFor(lab, host);
  const floating = floatingIpsOn(lab, host);
  if (segments.length === 0 && routes.length === 0) return undefined;
  const body: string[] = [];
  const teardown: string[] = [];
  for (const s of segments) {
    const { apply, remove } = segmentLines(lab, host, s);
    body.push(...apply);
    teardown.push(...remove);
  }
  for (const ip of floating) {
    body.push(sh`ip addr replace ${ip}/32 dev ${host.uplink}`);
    teardown.push(sh`ip addr del ${ip}/32 dev ${host.uplink} 2>/dev/null || true`);
  }
  for (const r of routes) {
    body.push(sh`ip route replace ${r.to} via ${r.via}`);
    teardown.push(sh`ip route del ${r.to} via ${r.via} 2>/dev/null || true`);
  }
  const names = segments.map((s) => s.name).join(",") || "routes";
  const title = `network on ${host.name}: ${names}`;
  return {
    id: networkStageId(host.name),
    runOn: { kind: "host", host: host.name },
    title,
    after,
    apply: applyScript(title, body, teardown),
    teardown: teardownScript(title, teardown),
  };
}

function segmentLines(lab: ResolvedLab, host: Host, s: Segment): { apply: string[]; remove: string[] } {
  const apply = [
    `# segment ${s.name} of tenant ${s.tenant}: ${s.mode}, ${s.cidr}${s.cidr6 ? ` ${s.cidr6}` : ""}, ${s.vni !== undefined ? `VNI ${s.vni}` : s.vlan !== undefined ? `VLAN ${s.vlan}` : "LAN"}, MTU ${s.mtu}`,
    sh`if cn_link_missing ${s.bridge}; then ip link add ${s.bridge} mtu ${s.mtu} type bridge; fi`,
    sh`ip link set ${s.bridge} up`,
  ];
  const remove: string[] = [];
  if (s.vni !== undefined && s.overlayDev) {
    apply.push(
      sh`if cn_link_missing ${s.overlayDev}; then ip link add ${s.overlayDev} mtu ${s.mtu} type vxlan id ${s.vni} local ${host.underlay.toString()} dstport ${VXLAN_PORT}; fi`,
      sh`ip link set ${s.overlayDev} master ${s.bridge} up`,
    );
    for (const remote of s.hosts.filter((h) => h !== host.name)) {
      const dst = lab.hosts.find((h) => h.name === remote)!.underlay.toString();
      apply.push(sh`bridge fdb append ${FLOOD_MAC} dev ${s.overlayDev} dst ${dst}`);
    }
    remove.push(sh`cn_link_del ${s.overlayDev}`);
  } else if (s.vlan !== undefined && s.overlayDev) {
    apply.push(
      sh`if cn_link_missing ${s.overlayDev}; then ip link add link ${host.uplink} name ${s.overlayDev} mtu ${s.mtu} type vlan id ${s.vlan}; fi`,
      sh`ip link set ${s.overlayDev} master ${s.bridge} up`,
    );
    remove.push(sh`cn_link_del ${s.overlayDev}`);
  } else if (s.mode === "bridged" && host.lanPort) {
    // The LAN port is the host's (real hosts) or the host stage's (emulated): released, never deleted.
    apply.push(sh`ip link set ${host.lanPort} master ${s.bridge} up`);
    remove.push(sh`if ! cn_link_missing ${host.lanPort}; then ip link set ${host.lanPort} nomaster; fi`);
  }
  // On real hosts VMs' TAPs (named by the lab) come and go with libvirt: a rebuilt bridge takes back those that exist.
  if (host.target.kind !== "emulated") {
    for (const g of lab.guests.filter((x) => x.host === host.name && x.compute.kind === "vm")) {
      for (const n of g.nics.filter((x) => x.segment === s.name)) {
        apply.push(sh`if ! cn_link_missing ${n.hostDev}; then ip link set ${n.hostDev} master ${s.bridge}; fi`);
      }
    }
  }
  if (s.gateway?.host === host.name) {
    const r = routerLines(lab, s);
    apply.push(...r.apply);
    remove.push(...r.remove);
  }
  remove.push(sh`cn_link_del ${s.bridge}`);
  return { apply, remove };
}

/**
 * The segment's router namespace on its gateway host: `gw0` on the bridge with the gateway
 * address(es), `ext0` linked to the host, which routes the subnet to it. Removing the namespace
 * removes both links (and the host's route through them).
 */
function routerLines(lab: ResolvedLab, s: Segment): { apply: string[]; remove: string[] } {
  const gw = s.gateway!;
  const r = gw.router;
  const mac = MacAddress.derive(`${lab.name}/router/${s.name}`).toString();
  const apply = [
    `# router of segment ${s.name}: namespace ${r.netns}`,
    sh`cn_netns_add ${r.netns}`,
    sh`ip -n ${r.netns} link set lo up`,
    sh`if cn_link_missing ${r.bridgePort}; then ip link add ${r.bridgePort} mtu ${s.mtu} type veth peer name gw0 netns ${r.netns} address ${mac} mtu ${s.mtu}; fi`,
    sh`ip link set ${r.bridgePort} master ${s.bridge} up`,
    sh`ip -n ${r.netns} addr replace ${gw.address.toString()}/${s.cidr.prefixLength} dev gw0`,
    ...(gw.address6 && s.cidr6 ? [sh`ip -n ${r.netns} -6 addr replace ${gw.address6.toString()}/${s.cidr6.prefixLength} dev gw0 nodad`] : []),
    sh`ip -n ${r.netns} link set gw0 up`,
    sh`if cn_link_missing ${r.hostLink}; then ip link add ${r.hostLink} type veth peer name ext0 netns ${r.netns}; fi`,
    sh`ip addr replace ${r.hostLinkAddress.toString()}/30 dev ${r.hostLink}`,
    sh`ip link set ${r.hostLink} up`,
    sh`ip -n ${r.netns} addr replace ${r.routerLinkAddress.toString()}/30 dev ext0`,
    sh`ip -n ${r.netns} link set ext0 up`,
    sh`ip -n ${r.netns} route replace default via ${r.hostLinkAddress.toString()}`,
    sh`ip netns exec ${r.netns} sysctl -qw net.ipv4.ip_forward=1`,
    ...(gw.address6 ? [sh`ip netns exec ${r.netns} sysctl -qw net.ipv6.conf.all.forwarding=1`] : []),
    sh`ip route replace ${s.cidr.toString()} via ${r.routerLinkAddress.toString()} dev ${r.hostLink}`,
  ];
  return { apply, remove: [sh`cn_netns_del ${r.netns} gw0 ext0`] };
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
