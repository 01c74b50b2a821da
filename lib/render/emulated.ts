import { sh } from "../net";
import { External, Host, ResolvedLab } from "../model";
import { controllerTeardown } from "./converge";
import { applyScript, freshNetns, keepOnTeardown, teardownScript } from "./script";
import { Stage } from "./stage";

/** Bridge inside the fabric namespace that joins the emulated hosts' uplinks. */
export const FABRIC_BRIDGE = "fabric";

export function fabricStageId(): string {
  return "fabric";
}

export function hostStageId(host: string): string {
  return `host/${host}`;
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
    teardown: teardownScript(`lab ${lab.prefix}: every namespace and file`, controllerTeardown(lab)),
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
  const devs = [host.uplink, ...(host.lanPort ? [host.lanPort] : []), ...(host.tunnelEndpoint ? [host.tunnelEndpoint.dev] : [])];
  const fresh = freshNetns(ns, [sh`cn_netns_del ${ns}`, ...devs.map((d) => sh`${d}`)].join(" "));
  return {
    id: hostStageId(host.name),
    runOn: { kind: "controller" },
    title: `host ${host.name}`,
    after: [fabricStageId()],
    owns: [
      { kind: "netns", name: ns }, { kind: "link", name: port, netns: fabric.netns },
      ...(host.fabricLanPort ? [{ kind: "link" as const, name: host.fabricLanPort, netns: fabric.netns }] : []),
      ...(host.tunnelEndpoint ? [{ kind: "link" as const, name: host.tunnelEndpoint.fabricPort, netns: fabric.netns }] : []),
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
      // A cluster host's tunnels leave through a link of their own, which its switch takes (the network stage).
      ...(host.tunnelEndpoint ? [
        ...onFabric(fabric.netns, host.tunnelEndpoint.fabricPort, ns, host.tunnelEndpoint.dev),
        sh`ip netns exec ${ns} ethtool -K ${host.tunnelEndpoint.dev} tx off >/dev/null`,
        // The link is the switch's alone: the host's own stack never answers on it (it would answer ARP
        // for the host's uplink address with this link's MAC, and the fabric would send it here).
        sh`ip netns exec ${ns} sysctl -qw net/ipv4/conf/${host.tunnelEndpoint.dev}/arp_ignore=8 net/ipv6/conf/${host.tunnelEndpoint.dev}/disable_ipv6=1`,
      ] : []),
    ], [fresh.rollback]),
    teardown: keepOnTeardown(`host ${host.name}`),
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
