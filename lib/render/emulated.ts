import { sh } from "../net";
import { Guest, Host, ResolvedLab, Segment } from "../model";
import { applyScript, teardownScript } from "./script";
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

/** The underlay: a namespace with one bridge that every emulated host's uplink plugs into. */
export function renderFabric(lab: ResolvedLab): Stage {
  const ns = lab.fabric!.netns;
  const teardown = [sh`cn_netns_del ${ns}`];
  return {
    id: fabricStageId(),
    runOn: { kind: "controller" },
    title: `fabric ${ns}`,
    after: [],
    apply: applyScript(`fabric ${ns}`, [
      sh`cn_netns_add ${ns}`,
      sh`ip -n ${ns} link set lo up`,
      sh`if cn_link_missing ${FABRIC_BRIDGE} ${ns}; then ip -n ${ns} link add ${FABRIC_BRIDGE} type bridge; fi`,
      sh`ip -n ${ns} link set ${FABRIC_BRIDGE} up`,
    ], teardown),
    teardown: teardownScript(`fabric ${ns}`, teardown),
  };
}

/** An emulated host: its namespace, and an uplink on the fabric carrying its underlay address. */
export function renderEmulatedHost(lab: ResolvedLab, host: Host): Stage {
  const fabric = lab.fabric!;
  const ns = host.netns!;
  const port = host.fabricPort!;
  const teardown = [sh`cn_netns_del ${ns}`];
  return {
    id: hostStageId(host.name),
    runOn: { kind: "controller" },
    title: `host ${host.name}`,
    after: [fabricStageId()],
    apply: applyScript(`host ${host.name} (${host.underlay})`, [
      sh`cn_netns_add ${ns}`,
      sh`ip -n ${ns} link set lo up`,
      sh`if cn_link_missing ${host.uplink} ${ns}; then ip link add ${port} netns ${fabric.netns} type veth peer name ${host.uplink} netns ${ns}; fi`,
      sh`ip -n ${fabric.netns} link set ${port} master ${FABRIC_BRIDGE} up`,
      sh`ip -n ${ns} addr replace ${host.underlay.toString()}/${fabric.cidr.prefixLength} dev ${host.uplink}`,
      sh`ip -n ${ns} link set ${host.uplink} up`,
    ], teardown),
    teardown: teardownScript(`host ${host.name}`, teardown),
  };
}

/**
 * An emulated guest: a namespace standing in for a VM or container. Its NICs are veth pairs whose
 * host ends sit on the segment bridges, where a real VM's TAP would be.
 */
export function renderEmulatedGuest(lab: ResolvedLab, guest: Guest, hostStageDeps: readonly string[]): Stage {
  const host = lab.hosts.find((h) => h.name === guest.host)!;
  const segments = new Map<string, Segment>(lab.segments.map((s) => [s.name, s]));
  const ns = guest.netns!;
  const hostNs = host.netns!;
  const body = [sh`cn_netns_add ${ns}`, sh`ip -n ${ns} link set lo up`];
  for (const nic of guest.nics) {
    const seg = segments.get(nic.segment)!;
    body.push(
      sh`if cn_link_missing ${nic.guestDev} ${ns}; then ip link add ${nic.guestDev} netns ${ns} address ${nic.mac.toString()} mtu ${seg.mtu} type veth peer name ${nic.hostDev} netns ${hostNs} mtu ${seg.mtu}; fi`,
      sh`ip -n ${hostNs} link set ${nic.hostDev} master ${seg.bridge} up`,
      sh`ip -n ${ns} addr replace ${nic.address.toString()}/${nic.prefixLength} dev ${nic.guestDev}`,
      sh`ip -n ${ns} link set ${nic.guestDev} up`,
    );
  }
  const teardown = [sh`cn_netns_del ${ns}`];
  return {
    id: guestStageId(guest.name),
    runOn: { kind: "controller" },
    title: `guest ${guest.name} on ${guest.host}`,
    after: hostStageDeps,
    apply: applyScript(`guest ${guest.name} on ${guest.host}`, body, teardown),
    teardown: teardownScript(`guest ${guest.name}`, teardown),
  };
}
