import { heredoc, sh, shortHash } from "../net";
import { Host, OverlayCluster, QosPolicy, QosSwitchPort, ResolvedLab } from "../model";
import { endpoints } from "./ovs-flows";

/** A policy on one switch port. */
interface PortPolicy {
  readonly policy: QosPolicy;
  readonly sp: QosSwitchPort;
}

/** The lab's switch-port policies on `host`'s integration bridge of `cluster`. */
function portPolicies(lab: ResolvedLab, cluster: OverlayCluster, host: string): PortPolicy[] {
  return lab.qosPolicies.flatMap((policy) => policy.switchPorts.filter((sp) => sp.host === host && sp.cluster === cluster.name).map((sp) => ({ policy, sp })));
}

/**
 * Open vSwitch's queue of each HTB leaf: the default class is queue 0 (what unclassified traffic
 * gets: linux-htb's default), the other leaves 1, 2, ... in the policy's order. Queue N is tc class
 * 1:N+1 under the root 1:fffe.
 */
export function switchQueues(policy: QosPolicy): Map<number, number> {
  if (policy.shape.kind !== "htb") return new Map();
  const { classes, defaultMinor } = policy.shape;
  const others = classes.filter((c) => c.leaf && c.minor !== defaultMinor);
  return new Map([[defaultMinor, 0], ...others.map((c, i): [number, number] => [c.minor, i + 1])]);
}

/**
 * The integration bridge's QoS table (INTEGRATION_TABLES.qos), or none when the host has no
 * switch-port policy: traffic to a network's guests on this host that a class matches gets that
 * class's queue; a metered network's traffic passes its meter; everything then goes to the normal
 * switch. Frames are told apart by the lab's MACs (dl_dst of a local endpoint: into the network;
 * in_port of its port: out of it), which the source check before this table has vouched for.
 */
export function qosFlows(lab: ResolvedLab, cluster: OverlayCluster, host: Host, table: number): string[] {
  const items = portPolicies(lab, cluster, host.name);
  if (items.length === 0) return [];
  const c = `cookie=${cluster.cookie},table=${table}`;
  const flows: string[] = [];
  for (const { policy, sp } of items) {
    const segment = lab.segments.find((s) => s.name === sp.segment)!;
    const local = endpoints(lab, segment).filter((e) => e.host === host.name);
    if (policy.shape.kind === "meter") {
      if (sp.direction === "egress") flows.push(`${c},priority=10,in_port=${sp.port},actions=meter:${sp.meterId},NORMAL`);
      else for (const e of local) flows.push(`${c},priority=10,dl_dst=${e.mac},actions=meter:${sp.meterId},NORMAL`);
    } else if (policy.shape.kind === "htb") {
      const queues = switchQueues(policy);
      policy.shape.filters.forEach((f, i) => {
        for (const e of local) flows.push(`${c},priority=${1000 - i},${f.flow},dl_dst=${e.mac},actions=set_queue:${queues.get(f.minor)},NORMAL`);
      });
    }
  }
  flows.push(`${c},priority=0,actions=NORMAL`);
  return flows;
}

/** A host's meters, in ovs-ofctl's words: kbit/s, bursts in kbit, excess dropped. */
function meterSpecs(lab: ResolvedLab, cluster: OverlayCluster, host: string): string[] {
  return portPolicies(lab, cluster, host).flatMap(({ policy, sp }) => {
    if (policy.shape.kind !== "meter") return [];
    const { rate, burstBits } = policy.shape;
    return [`meter=${sp.meterId},kbps,burst,band=type=drop,rate=${rate.bitsPerSecond / 1000},burst_size=${Math.ceil(burstBits / 1000)}`];
  });
}

/** The ovs-vsctl words that make a port's linux-htb QoS (a row @q and a queue per leaf class). */
function linuxHtb(lab: ResolvedLab, policy: QosPolicy): string[] {
  if (policy.shape.kind !== "htb") return [];
  const root = policy.shape.classes[0];
  const owner = `external_ids:cloudnet-lab=${lab.prefix}`;
  const queues = [...switchQueues(policy)].sort((a, b) => a[1] - b[1]);
  const words = ["--id=@q", "create", "qos", "type=linux-htb", `other-config:max-rate=${root.rate.bitsPerSecond}`, owner, ...queues.map(([, q]) => `queues:${q}=@q${q}`)];
  for (const [minor, q] of queues) {
    const k = policy.shape.classes.find((x) => x.minor === minor)!;
    words.push("--", `--id=@q${q}`, "create", "queue", `other-config:min-rate=${k.rate.bitsPerSecond}`, `other-config:max-rate=${k.ceil.bitsPerSecond}`,
      // One burst for both of linux-htb's buckets: the larger, so the ceil can be reached.
      `other-config:burst=${Math.max(k.burst, k.cburst) * 8}`, `other-config:priority=${k.prio}`, owner);
  }
  return words;
}

/**
 * Before the integration bridge's flows: each of the host's cluster ports gets the QoS its policy
 * declares (made again only when that changed) or loses the lab's; the meters the flows use are
 * added or brought up to date.
 */
export function ovsQosLines(lab: ResolvedLab, host: Host, cluster: OverlayCluster, db: string, target: string): string[] {
  const items = portPolicies(lab, cluster, host.name);
  const lines = lab.segments.filter((s) => s.cluster === cluster.name && s.localVlans?.[host.name] !== undefined).map((s) => {
    const htb = items.find((x) => x.sp.segment === s.name && x.policy.shape.kind === "htb");
    if (!htb) return sh`cn_ovs_qos ${db} ${s.ovsPort!} -`;
    const words = linuxHtb(lab, htb.policy);
    // Its hash names what built it, kept in the row: a second apply with the same words changes nothing.
    const sum = shortHash(words.join(" "), 16);
    const withSum = [...words.slice(0, 4), `external_ids:cloudnet-qos=${sum}`, ...words.slice(4)];
    return [sh`cn_ovs_qos ${db} ${s.ovsPort!} ${sum}`, ...withSum.map((w) => sh`${w}`)].join(" ");
  });
  const meters = meterSpecs(lab, cluster, host.name);
  if (meters.length > 0) lines.push(heredoc(sh`cn_ovs_meters ${target} add`, meters.join("\n")));
  return lines;
}

/** After the flows: meters no flow uses any more go (removing a meter first would take its flows with it). */
export function ovsMeterPruneLine(lab: ResolvedLab, host: Host, cluster: OverlayCluster, target: string): string {
  return heredoc(sh`cn_ovs_meters ${target} prune`, meterSpecs(lab, cluster, host.name).join("\n"));
}
