import { heredoc, kernelName, sh } from "../net";
import { QosAttachment, QosPolicy, QosQueue, QosUplink, ResolvedLab } from "../model";
import { ownerId, stateScope } from "./converge";
import { guestStageId } from "./namespace-guest";
import { applyScript, keepOnTeardown } from "./script";
import { Owned, Stage } from "./stage";

export const qosStageId = (guest: string) => `qos/${guest}`;
export const uplinkQosStageId = (host: string) => `uplink-qos/${host}`;

const hex = (n: number) => n.toString(16);

/**
 * A guest's traffic control, on its host: for each policy attached to one of its NICs, the NIC's
 * host-side device shaped (traffic to the guest), or an IFB device fed from that device's ingress and
 * shaped (traffic from the guest). On the host side, where a hostile guest cannot take it off. Each
 * device's qdiscs come from one `tc -batch`, rebuilt only when the batch changes.
 */
export function qosStages(lab: ResolvedLab): Stage[] {
  const byGuest = new Map<string, Array<{ policy: QosPolicy; a: QosAttachment }>>();
  for (const policy of lab.qosPolicies) for (const a of policy.attachments) byGuest.set(a.guest, [...(byGuest.get(a.guest) ?? []), { policy, a }]);
  const guestStages = [...byGuest].map(([guest, items]): Stage => {
    const host = items[0].a.host;
    const title = `traffic control of ${guest} on ${host}`;
    const owns: Owned[] = [];
    const body: string[] = [];
    // Queues some kernels lack are asked for before anything is taken down: a host without them is left as it was.
    const needed = [...new Set(items.flatMap(({ policy }) => kindsToProbe(policy)))].sort();
    if (needed.length > 0) body.push([sh`cn_tc_need ${kernelName(lab.prefix, "z", "probe")}`, ...needed.map((k) => sh`${k}`)].join(" "));
    for (const { policy, a } of items) {
      body.push(`# ${a.direction === "ingress" ? "to" : "from"} ${guest} (NIC ${a.nic}): policy ${policy.name}`);
      if (a.direction === "egress") {
        body.push(sh`if cn_link_missing ${a.dev}; then ip link add ${a.dev} type ifb; fi`, sh`ip link set ${a.dev} up`);
        owns.push({ kind: "link", name: a.dev }, { kind: "qdisc", dev: a.hostDev, at: "ingress" });
      }
      // Segments as large as 64 kB would pass the shaper as one packet: it meters frames as they go.
      body.push(sh`ethtool -K ${a.dev} tso off gso off gro off >/dev/null 2>&1 || true`);
      body.push(heredoc(sh`cn_tc_apply ${a.dev} ${a.direction === "egress" ? a.hostDev : "-"} ${hex(policy.major)}`, tcBatch(policy, a.dev, a.direction === "egress" ? a.hostDev : undefined).join("\n")));
      owns.push({ kind: "qdisc", dev: a.dev, at: "root" });
    }
    const after = [guestStageId(guest)];
    return { id: qosStageId(guest), runOn: { kind: "host", host }, title, after, replacedWith: after, apply: applyScript(title, body, []), teardown: keepOnTeardown(title), owns };
  });
  return [...guestStages, ...uplinkStages(lab)];
}

/**
 * Hosts' uplinks: the uplink itself shaped (what the host sends out), or an IFB of the lab's fed from
 * its ingress (what it takes in). The uplink is the host's, not the lab's: a root or ingress qdisc
 * another tool put there stops the apply before anything changes, and the lab's are recorded by
 * lab and host so the converge removes those alone.
 */
function uplinkStages(lab: ResolvedLab): Stage[] {
  const byHost = new Map<string, Array<{ policy: QosPolicy; u: QosUplink }>>();
  for (const policy of lab.qosPolicies) for (const u of policy.uplinks) byHost.set(u.host, [...(byHost.get(u.host) ?? []), { policy, u }]);
  return [...byHost].map(([host, items]) => {
    const title = `traffic control of the uplink of ${host}`;
    const scope = stateScope(lab, host);
    const record = (dev: string) => `${lab.prefix}@${scope}@${dev}`;
    const owns: Owned[] = [];
    const body: string[] = [];
    const needed = [...new Set(items.flatMap(({ policy }) => kindsToProbe(policy)))].sort();
    if (needed.length > 0) body.push([sh`cn_tc_need ${kernelName(lab.prefix, "z", "probe")}`, ...needed.map((k) => sh`${k}`)].join(" "));
    // Every check before the first change.
    for (const { policy, u } of items) body.push(u.direction === "egress" ? sh`cn_tc_foreign ${u.uplink} root ${hex(policy.major)} ${record(u.uplink)}` : sh`cn_tc_foreign ${u.uplink} ingress ${hex(policy.major)} ${`${record(u.uplink)}@ingress`}`);
    for (const { policy, u } of items) {
      body.push(`# ${u.direction === "egress" ? "out of" : "into"} ${host} by ${u.uplink}: policy ${policy.name}`);
      if (u.direction === "egress") {
        body.push(heredoc(sh`cn_tc_apply ${u.dev} - ${hex(policy.major)} ${record(u.uplink)}`, tcBatch(policy, u.dev).join("\n")));
        owns.push({ kind: "qdisc", dev: u.dev, at: "root" });
      } else {
        body.push(sh`if cn_link_missing ${u.dev}; then ip link add ${u.dev} type ifb; fi`, sh`ip link set ${u.dev} up`);
        body.push(sh`ethtool -K ${u.dev} tso off gso off gro off >/dev/null 2>&1 || true`);
        body.push(heredoc(sh`cn_tc_apply ${u.dev} ${u.uplink} ${hex(policy.major)}`, tcBatch(policy, u.dev, u.uplink).join("\n")));
        // The record claims the uplink's ingress qdisc for the lab: the converge removes it only then.
        body.push(sh`echo ${lab.prefix} > ${`/run/cloudnet/tc/${record(u.uplink)}@ingress`}`);
        owns.push({ kind: "link", name: u.dev }, { kind: "qdisc", dev: u.dev, at: "root" }, { kind: "qdisc", dev: u.uplink, at: "ingress" });
      }
    }
    return { id: uplinkQosStageId(host), runOn: { kind: "host", host }, title, after: [ownerId(host)], apply: applyScript(title, body, []), teardown: keepOnTeardown(title), owns };
  });
}

/** The batch that builds a device's qdisc tree (HTB, TBF, a queue or netem) and, with `feedFrom`, the redirect of that device's ingress into it. */
export function tcBatch(policy: QosPolicy, dev: string, feedFrom?: string): string[] {
  const m = hex(policy.major);
  const out: string[] = [];
  if (policy.shape.kind === "tbf") {
    const t = policy.shape;
    out.push(`qdisc add dev ${dev} root handle ${m}: tbf rate ${t.rate.toTc()} burst ${t.burst}b latency ${t.latencyMs}ms`);
  } else if (policy.shape.kind === "queue") {
    out.push(`qdisc add dev ${dev} root handle ${m}: ${queueArgs(policy.shape.queue)}`);
  } else if (policy.shape.kind === "netem") {
    const n = policy.shape;
    const delay = n.delayMs || n.jitterMs ? ` delay ${n.delayMs}ms${n.jitterMs ? ` ${n.jitterMs}ms` : ""}` : "";
    const loss = n.lossPercent ? ` loss ${n.lossPercent}%` : "";
    const rate = n.rate ? ` rate ${n.rate.toTc()}` : "";
    out.push(`qdisc add dev ${dev} root handle ${m}: netem${delay}${loss}${rate}`);
  } else if (policy.shape.kind === "htb") {
    const h = policy.shape;
    out.push(`qdisc add dev ${dev} root handle ${m}: htb default ${hex(h.defaultMinor)}`);
    for (const c of h.classes) {
      const parent = c.parent === 0 ? `${m}:` : `${m}:${hex(c.parent)}`;
      out.push(`class add dev ${dev} parent ${parent} classid ${m}:${hex(c.minor)} htb rate ${c.rate.toTc()} ceil ${c.ceil.toTc()} burst ${c.burst}b cburst ${c.cburst}b quantum ${c.quantum} prio ${c.prio}`);
    }
    // Each leaf's queue under its class, numbered as the class (handle minor:): sized by its ceil, not the device's txqueuelen.
    for (const c of h.classes) if (c.queue) out.push(`qdisc add dev ${dev} parent ${m}:${hex(c.minor)} handle ${hex(c.minor)}: ${queueArgs(c.queue)}`);
    h.filters.forEach((f, i) => out.push(`filter add dev ${dev} parent ${m}: protocol ip prio ${i + 1} u32 ${f.selectors.join(" ")} flowid ${m}:${hex(f.minor)}`));
  }
  if (feedFrom !== undefined) {
    out.push(
      `qdisc add dev ${feedFrom} handle ffff: ingress`,
      `filter add dev ${feedFrom} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${dev}`,
    );
  }
  return out;
}

/** tc's words for a queue. */
export function queueArgs(q: QosQueue): string {
  switch (q.kind) {
    case "bfifo":
      return `bfifo limit ${q.limitBytes}`;
    case "pfifo":
      return `pfifo limit ${q.limitPackets}`;
    case "sfq":
      return `sfq perturb ${q.perturbSeconds}`;
    case "fq_codel":
      return `fq_codel target ${q.targetMs}ms interval ${q.intervalMs}ms`;
  }
}

/** The qdisc kinds of a policy that kernels may be built without (FIFOs, HTB and TBF are everywhere). */
export function kindsToProbe(policy: QosPolicy): string[] {
  const s = policy.shape;
  if (s.kind === "netem") return ["netem"];
  const queues = s.kind === "queue" ? [s.queue] : s.kind === "htb" ? s.classes.flatMap((c) => (c.queue ? [c.queue] : [])) : [];
  return queues.map((q) => q.kind).filter((k) => k === "sfq" || k === "fq_codel");
}
