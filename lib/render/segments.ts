import { sh } from "../net";
import { Host, ResolvedLab } from "../model";
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
 * device with head-end replication (one flood entry per remote host). Returns undefined when the
 * host has no segment.
 */
export function renderHostNetwork(lab: ResolvedLab, host: Host, after: readonly string[]): Stage | undefined {
  const segments = lab.segments.filter((s) => s.hosts.includes(host.name));
  if (segments.length === 0) return undefined;
  const byName = new Map(lab.hosts.map((h) => [h.name, h]));
  const body: string[] = [];
  const teardown: string[] = [];
  for (const s of segments) {
    body.push(
      `# segment ${s.name}: ${s.cidr}, VNI ${s.vni}, MTU ${s.mtu}`,
      sh`if cn_link_missing ${s.bridge}; then ip link add ${s.bridge} mtu ${s.mtu} type bridge; fi`,
      sh`ip link set ${s.bridge} up`,
      sh`if cn_link_missing ${s.vxlan}; then ip link add ${s.vxlan} mtu ${s.mtu} type vxlan id ${s.vni} local ${host.underlay.toString()} dstport ${VXLAN_PORT}; fi`,
      sh`ip link set ${s.vxlan} master ${s.bridge} up`,
    );
    for (const remote of s.hosts.filter((h) => h !== host.name)) {
      body.push(sh`bridge fdb append ${FLOOD_MAC} dev ${s.vxlan} dst ${byName.get(remote)!.underlay.toString()}`);
    }
    teardown.push(sh`cn_link_del ${s.vxlan}`, sh`cn_link_del ${s.bridge}`);
  }
  const title = `network on ${host.name}: ${segments.map((s) => s.name).join(",")}`;
  return {
    id: networkStageId(host.name),
    runOn: { kind: "host", host: host.name },
    title,
    after,
    apply: applyScript(title, body, teardown),
    teardown: teardownScript(title, teardown),
  };
}
