import { sh } from "../net";
import { Guest, ResolvedLab, Segment } from "../model";
import { chainMarker } from "./firewall";
import { applyScript, freshNetns, keepOnTeardown } from "./script";
import { linkLocal } from "./security";
import { Stage } from "./stage";

export function guestStageId(guest: string): string {
  return `guest/${guest}`;
}

/**
 * A guest as a namespace: every guest of an emulated lab (standing in for a VM or container), and a
 * `Compute.namespace()` guest on a real host. Its NICs are veth pairs whose host ends sit on the
 * segment bridges, where a VM's TAP would be. Emulated, the stage runs on the controller and the host
 * ends go into the host's namespace; on a real host it runs on the host and they stay in its own.
 * Containers in Docker's host or container mode own no namespace: they run in their host's or peer's.
 */
export function renderNamespaceGuest(lab: ResolvedLab, guest: Guest, deps: readonly string[], keepChains: readonly string[] = []): Stage {
  const host = lab.hosts.find((h) => h.name === guest.host)!;
  const segments = new Map<string, Segment>(lab.segments.map((s) => [s.name, s]));
  const ns = guest.netns!;
  // The namespace of the host ends: the emulated host's, or none (the real host's own).
  const hostNs = host.netns;
  const onHost = hostNs ? sh`ip -n ${hostNs}` : "ip";
  const runOn: Stage["runOn"] = hostNs ? { kind: "controller" } : { kind: "host", host: host.name };
  const title = `guest ${guest.name} on ${guest.host}`;
  if (!guest.ownsNetns) {
    const body = [`# runs in namespace ${ns}, which it shares`];
    return { id: guestStageId(guest.name), runOn, title, after: deps, apply: applyScript(title, body, []), teardown: keepOnTeardown(title) };
  }
  const fresh = freshNetns(ns, [sh`cn_netns_del ${ns}`, ...guest.nics.map((n) => sh`${n.guestDev}`)].join(" "));
  const body = [fresh.check, sh`cn_netns_add ${ns}`, sh`ip -n ${ns} link set lo up`];
  // Segments with a shaped device: a guest's 64 kB offload segments would reach a shaper as single
  // packets, and HTB deals spare bandwidth by packets once they outgrow its quanta. Elsewhere the
  // kernel's default (on) is restored, so a policy taken out leaves no trace.
  const shaped = new Set(lab.qosPolicies.flatMap((q) => q.attachments.map((a) => a.segment)));
  let routed = false;
  let routed6 = false;
  for (const nic of guest.nics) {
    const seg = segments.get(nic.segment)!;
    const addresses = [`${nic.address}/${nic.prefixLength}`, ...(nic.address6 ? [`${nic.address6}/${nic.prefixLength6}`] : [])];
    body.push(
      // A guest moved to another host: its old pair is replaced by one into the new host.
      `${sh`if ! cn_link_missing ${nic.guestDev} ${ns} && cn_link_missing ${nic.hostDev}`}${hostNs ? sh` ${hostNs}` : ""}${sh`; then ip -n ${ns} link del ${nic.guestDev}; fi`}`,
      `${sh`if cn_link_missing ${nic.guestDev} ${ns}; then ip link add ${nic.guestDev} netns ${ns} address ${nic.mac.toString()} mtu ${seg.mtu} type veth peer name ${nic.hostDev}`}${hostNs ? sh` netns ${hostNs}` : ""}${sh` mtu ${seg.mtu}; fi`}`,
      // Attributes set at creation, brought up to date on a re-apply: the MAC the rules expect, the segment's MTU.
      sh`cn_mac ${nic.guestDev} ${nic.mac.toString()} ${ns}`,
      sh`ip -n ${ns} link set dev ${nic.guestDev} mtu ${seg.mtu}`,
      `${onHost} ${sh`link set dev ${nic.hostDev} mtu ${seg.mtu} master ${seg.bridge} up`}`,
      // The bridge knows the guest's MAC from the lab, not from frames: another port forging it moves nothing.
      sh`cn_fdb_only ${hostNs ?? "-"} ${nic.hostDev} master ${nic.mac.toString()}`,
      // A link-local address the lab chose (not whatever the guest's kernel derives), so filters can name it.
      sh`cn_ll_only ${ns} ${nic.guestDev} ${linkLocal(nic.mac.toString())}/64`,
      // Addresses it no longer has go first: removing a primary address would take a new secondary one with it.
      [sh`cn_addrs_only ${ns} ${nic.guestDev} any`, ...addresses.map((a) => sh`${a}`)].join(" "),
      sh`ip -n ${ns} addr replace ${nic.address.toString()}/${nic.prefixLength} dev ${nic.guestDev}`,
    );
    if (nic.address6) body.push(sh`ip -n ${ns} -6 addr replace ${nic.address6.toString()}/${nic.prefixLength6!} dev ${nic.guestDev} nodad`);
    const offload = shaped.has(nic.segment) ? "off" : "on";
    body.push(sh`ip netns exec ${ns} ethtool -K ${nic.guestDev} tso ${offload} gso ${offload} >/dev/null`);
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
    runOn,
    title,
    after: deps,
    apply: applyScript(title, body, [fresh.rollback]),
    teardown: keepOnTeardown(`guest ${guest.name}`),
    owns: [{ kind: "netns", name: ns }],
  };
}
