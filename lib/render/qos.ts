import { heredoc, kernelName, sh } from "../net";
import { QosAttachment, QosPolicy, QosQueue, ResolvedLab } from "../model";
import { guestStageId } from "./namespace-guest";
import { applyScript, keepOnTeardown } from "./script";
import { Owned, Stage } from "./stage";

export const qosStageId = (guest: string) => `qos/${guest}`;

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
  return [...byGuest].map(([guest, items]) => {
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
      body.push(heredoc(sh`cn_tc_apply ${a.dev} ${a.direction === "egress" ? a.hostDev : "-"} ${hex(policy.major)}`, tcBatch(policy, a).join("\n")));
      owns.push({ kind: "qdisc", dev: a.dev, at: "root" });
    }
    const after = [guestStageId(guest)];
    return { id: qosStageId(guest), runOn: { kind: "host", host }, title, after, replacedWith: after, apply: applyScript(title, body, []), teardown: keepOnTeardown(title), owns };
  });
}

/** The batch that builds a device's qdiscs: the root (HTB tree or TBF), and for egress the redirect into the IFB. */
export function tcBatch(policy: QosPolicy, a: QosAttachment): string[] {
  const m = hex(policy.major);
  const dev = a.dev;
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
  if (a.direction === "egress") {
    out.push(
      `qdisc add dev ${a.hostDev} handle ffff: ingress`,
      `filter add dev ${a.hostDev} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${dev}`,
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
