import { sh } from "../net";
import { External, Guest, Host, ResolvedLab, Segment } from "../model";
import { CONVERGE_HELPERS, controllerTeardown } from "./converge";
import { FIREWALL_HELPERS, chainMarker } from "./firewall";
import { applyScript, freshNetns, keepOnTeardown, teardownScript } from "./script";
import { linkLocal } from "./security";
import { Stage } from "./stage";

/** Bridge inside the fabric namespace that joins the emulated hosts' uplinks. */
export const FABRIC_BRIDGE = "fabric";

export function fabricStageId(): string {
  return "fabric";
}

export function hostStageId(host: string): string {
  return `host/${host}`;
}

export function guestStageId(guest: string): string {
  return `guest/${guest}`;
}

/**
 * The underlay: a namespace with one bridge that every emulated host's uplink plugs into. It is the
 * emulated lab's owner on the controller: created once, and on destroy it removes every namespace
 * and file of the lab (its scripts depend on the prefix only, so nothing else replaces it).
 */
export function renderFabric(lab: ResolvedLab): Stage {
  const ns = lab.fabric!.netns;
  const fresh = freshNetns(ns, sh`cn_netns_del ${ns}`);
  return {
    id: fabricStageId(),
    runOn: { kind: "controller" },
    title: `fabric ${ns}`,
    after: [],
    apply: applyScript(`fabric ${ns}`, [
      fresh.check,
      sh`cn_netns_add ${ns}`,
      sh`ip -n ${ns} link set lo up`,
      sh`if cn_link_missing ${FABRIC_BRIDGE} ${ns}; then ip -n ${ns} link add ${FABRIC_BRIDGE} type bridge; fi`,
      sh`ip -n ${ns} link set ${FABRIC_BRIDGE} up`,
    ], [fresh.rollback]),
    teardown: teardownScript(`lab ${lab.prefix}: every namespace and file`, controllerTeardown(lab), CONVERGE_HELPERS),
    // The lab's owner on the controller: a new version of its scripts must not replace it (its destroy removes everything).
    identity: `fabric of lab ${lab.prefix} in ${ns}`,
    owns: [{ kind: "netns", name: ns }],
  };
}

/** A veth from namespace `ns` (named `dev` there) to the fabric bridge (named `port` there), up at both ends. */
function onFabric(fabricNs: string, port: string, ns: string, dev: string): string[] {
  return [
    sh`if cn_link_missing ${dev} ${ns}; then ip link add ${port} netns ${fabricNs} type veth peer name ${dev} netns ${ns}; fi`,
    sh`ip -n ${fabricNs} link set ${port} master ${FABRIC_BRIDGE} up`,
    sh`ip -n ${ns} link set ${dev} up`,
  ];
}

/** An emulated host: its namespace, and an uplink on the fabric carrying its underlay address. */
export function renderEmulatedHost(lab: ResolvedLab, host: Host): Stage {
  const fabric = lab.fabric!;
  const ns = host.netns!;
  const port = host.fabricPort!;
  const fresh = freshNetns(ns, host.lanPort ? sh`cn_netns_del ${ns} ${host.uplink} ${host.lanPort}` : sh`cn_netns_del ${ns} ${host.uplink}`);
  return {
    id: hostStageId(host.name),
    runOn: { kind: "controller" },
    title: `host ${host.name}`,
    after: [fabricStageId()],
    owns: [
      { kind: "netns", name: ns }, { kind: "link", name: port, netns: fabric.netns },
      ...(host.fabricLanPort ? [{ kind: "link" as const, name: host.fabricLanPort, netns: fabric.netns }] : []),
    ],
    apply: applyScript(`host ${host.name} (${host.underlay})`, [
      fresh.check,
      sh`cn_netns_add ${ns}`,
      sh`ip -n ${ns} link set lo up`,
      ...onFabric(fabric.netns, port, ns, host.uplink),
      // A host renumbered on the fabric keeps no old address (floating IPs are /32s: the network stage's).
      // Old ones go first: removing a primary address would take a new secondary one with it.
      sh`cn_addrs_only ${ns} ${host.uplink} ${fabric.cidr.prefixLength} ${host.underlay.toString()}/${fabric.cidr.prefixLength}`,
      sh`ip -n ${ns} addr replace ${host.underlay.toString()}/${fabric.cidr.prefixLength} dev ${host.uplink}`,
      // A second port on the fabric for a bridged segment: guests then sit on the "physical" LAN.
      ...(host.lanPort && host.fabricLanPort ? onFabric(fabric.netns, host.fabricLanPort, ns, host.lanPort) : []),
    ], [fresh.rollback]),
    teardown: keepOnTeardown(`host ${host.name}`),
  };
}

/**
 * An emulated guest: a namespace standing in for a VM or container. Its NICs are veth pairs whose
 * host ends sit on the segment bridges, where a real VM's TAP would be. Containers in Docker's
 * host or container mode own no namespace: they run in their host's or peer's.
 */
export function renderEmulatedGuest(lab: ResolvedLab, guest: Guest, deps: readonly string[], keepChains: readonly string[] = []): Stage {
  const host = lab.hosts.find((h) => h.name === guest.host)!;
  const segments = new Map<string, Segment>(lab.segments.map((s) => [s.name, s]));
  const ns = guest.netns!;
  const hostNs = host.netns!;
  const title = `guest ${guest.name} on ${guest.host}`;
  if (!guest.ownsNetns) {
    const body = [`# runs in namespace ${ns}, which it shares`];
    return { id: guestStageId(guest.name), runOn: { kind: "controller" }, title, after: deps, apply: applyScript(title, body, []), teardown: keepOnTeardown(title) };
  }
  const fresh = freshNetns(ns, [sh`cn_netns_del ${ns}`, ...guest.nics.map((n) => sh`${n.guestDev}`)].join(" "));
  const body = [fresh.check, sh`cn_netns_add ${ns}`, sh`ip -n ${ns} link set lo up`];
  let routed = false;
  let routed6 = false;
  for (const nic of guest.nics) {
    const seg = segments.get(nic.segment)!;
    const addresses = [`${nic.address}/${nic.prefixLength}`, ...(nic.address6 ? [`${nic.address6}/${nic.prefixLength6}`] : [])];
    body.push(
      // A guest moved to another host: its old pair is replaced by one into the new host.
      sh`if ! cn_link_missing ${nic.guestDev} ${ns} && cn_link_missing ${nic.hostDev} ${hostNs}; then ip -n ${ns} link del ${nic.guestDev}; fi`,
      sh`if cn_link_missing ${nic.guestDev} ${ns}; then ip link add ${nic.guestDev} netns ${ns} address ${nic.mac.toString()} mtu ${seg.mtu} type veth peer name ${nic.hostDev} netns ${hostNs} mtu ${seg.mtu}; fi`,
      // Attributes set at creation, brought up to date on a re-apply: the MAC the rules expect, the segment's MTU.
      sh`cn_mac ${nic.guestDev} ${nic.mac.toString()} ${ns}`,
      sh`ip -n ${ns} link set dev ${nic.guestDev} mtu ${seg.mtu}`,
      sh`ip -n ${hostNs} link set dev ${nic.hostDev} mtu ${seg.mtu} master ${seg.bridge} up`,
      // The bridge knows the guest's MAC from the lab, not from frames: another port forging it moves nothing.
      sh`cn_fdb_only ${hostNs} ${nic.hostDev} master ${nic.mac.toString()}`,
      // A link-local address the lab chose (not whatever the guest's kernel derives), so filters can name it.
      sh`cn_ll_only ${ns} ${nic.guestDev} ${linkLocal(nic.mac.toString())}/64`,
      // Addresses it no longer has go first: removing a primary address would take a new secondary one with it.
      [sh`cn_addrs_only ${ns} ${nic.guestDev} any`, ...addresses.map((a) => sh`${a}`)].join(" "),
      sh`ip -n ${ns} addr replace ${nic.address.toString()}/${nic.prefixLength} dev ${nic.guestDev}`,
    );
    if (nic.address6) body.push(sh`ip -n ${ns} -6 addr replace ${nic.address6.toString()}/${nic.prefixLength6!} dev ${nic.guestDev} nodad`);
    body.push(sh`ip -n ${ns} link set ${nic.guestDev} up`);
    // The first NIC on a segment with a gateway carries the default route, as DHCP would set it.
    if (seg.gateway && !routed) {
      routed = true;
      body.push(sh`ip -n ${ns} route replace default via ${seg.gateway.address.toString()} dev ${nic.guestDev}`);
      if (seg.gateway.address6 && nic.address6) {
        routed6 = true;
        body.push(sh`ip -n ${ns} -6 route replace default via ${seg.gateway.address6.toString()} dev ${nic.guestDev}`);
      }
    }
  }
  if (!routed) body.push(sh`ip -n ${ns} route del default 2>/dev/null || true`);
  if (!routed6) body.push(sh`ip -n ${ns} -6 route del default 2>/dev/null || true`);
  // Re-applied over an older version: chains of interception that is no longer wanted go.
  const keep = keepChains.join(",") || "-";
  body.push(`if [ "$cn_fresh" = 0 ]; then`, ...([4, 6] as const).map((f) => sh`  cn_fw_prune ${ns} ${f === 4 ? "iptables" : "ip6tables"} ${f === 4 ? "iptables-save" : "ip6tables-save"} nat ${chainMarker(lab.prefix)} ${keep}`), "fi");
  // NICs removed from the code: their guest ends go (the host ends are the host converge's).
  const devs = guest.nics.map((n) => n.guestDev).join(",") || "-";
  body.push(sh`for cn_dev in $(ip -n ${ns} -o link show type veth | awk -F': ' '{ sub("@.*", "", $2); print $2 }'); do case ,${devs}, in *,"$cn_dev",*) ;; *) ip -n ${ns} link del "$cn_dev" ;; esac; done`);
  return {
    id: guestStageId(guest.name),
    runOn: { kind: "controller" },
    title,
    after: deps,
    apply: applyScript(title, body, [fresh.rollback], FIREWALL_HELPERS),
    teardown: keepOnTeardown(`guest ${guest.name}`),
    owns: [{ kind: "netns", name: ns }],
  };
}

export function externalStageId(name: string): string {
  return `external/${name}`;
}

/**
 * An external node: a namespace on the fabric standing for the outside world (a client, an admin
 * host, "the internet"). It owns extra addresses on its loopback and routes to routed segments.
 */
export function renderExternal(lab: ResolvedLab, ext: External, routes: ReadonlyArray<{ to: string; via: string }>): Stage {
  const fabric = lab.fabric!;
  const ns = ext.netns;
  const src = ext.addresses.find((a) => a.family === 4)?.network.toString();
  const body = [
    sh`cn_netns_add ${ns}`,
    sh`ip -n ${ns} link set lo up`,
    ...onFabric(fabric.netns, ext.fabricPort, ns, "eth0"),
    // Addresses it no longer has go first (removing a primary address would take a new secondary one with it).
    sh`cn_addrs_only ${ns} eth0 any ${ext.address.toString()}/${fabric.cidr.prefixLength}`,
    [sh`cn_addrs_only ${ns} lo any`, ...ext.addresses.map((a) => sh`${a.toString()}`)].join(" "),
    sh`ip -n ${ns} addr replace ${ext.address.toString()}/${fabric.cidr.prefixLength} dev eth0`,
    ...ext.addresses.map((a) => sh`ip -n ${ns} addr replace ${a.toString()} dev lo`),
    // An external with addresses of its own speaks from the first one (e.g. an admin host in its admin net).
    ...routes.map((r) => (src ? sh`ip -n ${ns} route replace ${r.to} via ${r.via} src ${src}` : sh`ip -n ${ns} route replace ${r.to} via ${r.via}`)),
    // Re-applied over an older version: routes it no longer has go.
    [sh`cn_routes_only ${ns}`, ...routes.map((r) => sh`${r.to}`)].join(" "),
  ];
  const fresh = freshNetns(ns, sh`cn_netns_del ${ns} eth0`);
  const title = `external ${ext.name} (${ext.address})`;
  return {
    id: externalStageId(ext.name),
    runOn: { kind: "controller" },
    title,
    after: [fabricStageId()],
    apply: applyScript(title, [fresh.check, ...body], [fresh.rollback]),
    teardown: keepOnTeardown(`external ${ext.name}`),
    owns: [{ kind: "netns", name: ns }, { kind: "link", name: ext.fabricPort, netns: fabric.netns }],
  };
}
