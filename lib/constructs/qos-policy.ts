import { Construct } from "constructs";
import { QosClassSpec, QosMatchSpec, QosPolicySpec, QosQueueSpec, QosTargetSpec } from "../model";
import { Rate } from "../net";
import { Host, PartProps } from "./hosts";
import { LabRegistry, labOf, sameLab } from "./lab-registry";
import { Network, Tenant } from "./networks";

/** A queue: an HTB leaf's (`queue:` of a class), or a whole policy's (`kind: "queue"`). */
export class QosQueue {
  /** First in, first out, up to `limitBytes`. @default for a leaf, what its ceil sends in 20 ms */
  static bfifo(limitBytes?: number): QosQueue {
    return new QosQueue({ kind: "bfifo", limitBytes });
  }

  /** First in, first out, up to `limitPackets`. */
  static pfifo(limitPackets: number): QosQueue {
    return new QosQueue({ kind: "pfifo", limitPackets });
  }

  /** Stochastic fairness among flows (sch_sfq; not every kernel has it: the apply checks first). */
  static sfq(options: { readonly perturbSeconds?: number } = {}): QosQueue {
    return new QosQueue({ kind: "sfq", perturbSeconds: options.perturbSeconds });
  }

  /** Fair queueing with CoDel's delay control (sch_fq_codel; the apply checks that the kernel has it). */
  static fqCodel(options: { readonly targetMs?: number; readonly intervalMs?: number } = {}): QosQueue {
    return new QosQueue({ kind: "fq_codel", targetMs: options.targetMs, intervalMs: options.intervalMs });
  }

  private constructor(/** @internal */ readonly _spec: QosQueueSpec) {}
}

/** The sizes of an HTB class; rates with units (`Rate.mbit(30)`), sizes in bytes. */
export interface QosClassProps {
  /** Guaranteed. */
  readonly rate: Rate;
  /** What it may borrow up to. @default its parent's ceil */
  readonly ceil?: Rate;
  /** 0 (first) to 7: lower numbers get spare bandwidth first. @default 0 */
  readonly prio?: number;
  /** @default what the rate sends in one tick (rate / 250), at least two frames */
  readonly burst?: number;
  /** @default what the ceil sends in one tick */
  readonly cburst?: number;
  /** 1,500-60,000 bytes. @default proportional to the rate, so borrowing follows the rates */
  readonly quantum?: number;
  /** A leaf's queue. @default `QosQueue.bfifo()`: what the ceil sends in 20 ms */
  readonly queue?: QosQueue;
}

/** What traffic a class takes; every field given must match. An address may be given as a guest (all its IPv4 addresses). */
export interface QosMatch {
  readonly source?: string | { readonly name: string };
  readonly destination?: string | { readonly name: string };
  readonly protocol?: "tcp" | "udp" | "icmp";
  readonly destinationPort?: number;
  readonly sourcePort?: number;
}

export interface QosPolicyProps extends PartProps {
  /**
   * "htb" (default): a tree of classes under `rate`, each guaranteed its rate and borrowing up to its
   * ceil; "tbf": one token bucket at `rate`, no classes; "queue": one `queue`, no shaping; "netem":
   * link impairments (delay, jitter, loss, and `rate` if given), for kernels that have sch_netem.
   */
  readonly kind?: "htb" | "tbf" | "queue" | "netem" | "meter";
  /** The root's rate (HTB), the bucket's (TBF), the meter's, or netem's (optional). */
  readonly rate?: Rate;
  /** meter: the burst it lets through above the rate, in bits. @default 250 ms of the rate (TCP through a policer with less falls well short of the rate) */
  readonly burstBits?: number;
  /** "queue": the queue. */
  readonly queue?: QosQueue;
  /** netem: added delay. */
  readonly delayMs?: number;
  /** netem: the delay varies by up to this much either way. */
  readonly jitterMs?: number;
  /** netem: packets lost at random, 0-100. */
  readonly lossPercent?: number;
  /** HTB: allow children whose rates add up to more than their parent's (a warning, not an error). @default false */
  readonly oversubscribe?: boolean;
  /** TBF: bucket size in bytes. @default what the rate sends in one tick */
  readonly burst?: number;
  /** TBF: how long a packet may wait for tokens before it is dropped. @default 50 */
  readonly latencyMs?: number;
}

/** A class of an HTB policy: a child of the policy's root or of another class. */
export class QosClass extends Construct {
  private readonly children: QosClass[] = [];
  private readonly matches: QosMatch[] = [];

  /** @internal */
  constructor(scope: Construct, id: string, private readonly props: QosClassProps, private readonly policy: QosPolicy) {
    super(scope, id);
  }

  /** A child class, which borrows from this one. */
  addClass(name: string, props: QosClassProps): QosClass {
    const c = new QosClass(this, name, props, this.policy);
    this.children.push(c);
    return c;
  }

  /** Sends matching traffic to this class (a leaf); filters are tried in the order they were added. */
  addMatch(match: QosMatch): this {
    for (const x of [match.source, match.destination]) if (typeof x === "object") sameLab(this.policy._lab, x, this.node.path, "guest");
    this.matches.push(match);
    return this;
  }

  /** @internal */
  _spec(): QosClassSpec {
    const p = this.props;
    const guestOr = (x: QosMatch["source"]) => (typeof x === "object" ? { guest: x.name } : { address: x });
    return {
      name: this.node.id, path: this.node.path, rate: p.rate.bitsPerSecond, ceil: p.ceil?.bitsPerSecond, prio: p.prio,
      burst: p.burst, cburst: p.cburst, quantum: p.quantum, queue: p.queue?._spec,
      children: this.children.length ? this.children.map((c) => c._spec()) : undefined,
      matches: this.matches.length ? this.matches.map((m): QosMatchSpec => {
        const src = guestOr(m.source);
        const dst = guestOr(m.destination);
        return {
          source: src.address, sourceGuest: src.guest, destination: dst.address, destinationGuest: dst.guest,
          protocol: m.protocol, destinationPort: m.destinationPort, sourcePort: m.sourcePort,
        };
      }) : undefined,
    };
  }
}

/**
 * Traffic control for guest NICs, applied on the host side where the guest cannot undo it: an HTB
 * tree (rates guaranteed, spare bandwidth borrowed up to each class's ceil and given back, u32
 * filters by address, protocol and port, unmatched traffic to the default class) or one token
 * bucket. `applyTo` shapes traffic to a guest ("ingress", on its host-side device) or from it
 * ("egress", on an IFB device fed by that device's ingress).
 */
export class QosPolicy extends Construct {
  /** @internal */
  readonly _lab: LabRegistry;
  /** The root class (HTB): add the tree's classes to it. */
  readonly root: QosClass;
  private defaultClass?: QosClass;
  private readonly targets: QosTargetSpec[] = [];

  constructor(scope: Construct, id: string, private readonly props: QosPolicyProps) {
    const lab = labOf(scope, id, props.lab, "QoS policy");
    super(lab._claim("qos policy", props.name ?? id, scope, id), id);
    this._lab = lab;
    const kind = props.kind ?? "htb";
    if ((kind === "htb" || kind === "tbf" || kind === "meter") && !props.rate) throw new Error(`[${this.node.path}] QoS policy '${this.name}' (kind "${kind}") needs a rate, e.g. rate: Rate.mbit(100).`);
    if (kind === "queue" && !props.queue) throw new Error(`[${this.node.path}] QoS policy '${this.name}' (kind "queue") needs a queue, e.g. queue: QosQueue.bfifo(100_000).`);
    // Only an HTB tree uses its root class; the others get a placeholder rate.
    this.root = new QosClass(this, "root", { rate: props.rate ?? Rate.bit(8), ceil: props.rate }, this);
    lab._add("qos policy", props.name ?? id, this);
  }

  /** The policy's name in the lab. */
  get name(): string {
    return this.props.name ?? this.node.id;
  }

  /** A class under the root (HTB). */
  addClass(name: string, props: QosClassProps): QosClass {
    if ((this.props.kind ?? "htb") !== "htb") throw new Error(`[${this.node.path}] QoS policy '${this.name}' is of kind "${this.props.kind}", which has no classes; make it kind "htb" for a tree.`);
    return this.root.addClass(name, props);
  }

  /** The leaf that traffic no filter matches goes to (HTB). */
  setDefault(leaf: QosClass): this {
    this.defaultClass = leaf;
    return this;
  }

  /**
   * Shapes a guest's NIC (0 unless given): traffic to it ("ingress") or from it ("egress"). Given a
   * tenant, it is the tenant's default: each NIC of its guests on its networks gets its own copy
   * (a per-NIC limit, not one shared by all), unless that NIC has a policy of its own. Given a host,
   * it shapes the host's uplink: what the host sends out ("egress") or takes in ("ingress"). An
   * uplink is the host's own device: the apply stops, changing nothing, where another tool already
   * has a root (egress) or ingress qdisc on it.
   */
  applyTo(target: { readonly name: string } | Tenant | Host, options: { readonly direction: "ingress" | "egress"; readonly nic?: number }): this {
    const kind = target instanceof Tenant ? "tenant" : target instanceof Host ? "host" : "guest";
    sameLab(this._lab, target, this.node.path, kind);
    if (kind !== "guest" && options.nic !== undefined) {
      throw new Error(`[${this.node.path}] ${kind === "tenant" ? "a tenant's default applies to every NIC of its guests on its networks" : "a host is shaped on its uplink"}; leave out nic (${options.nic}).`);
    }
    this.targets.push(kind === "tenant" ? { tenant: target.name, direction: options.direction }
      : kind === "host" ? { host: target.name, direction: options.direction }
      : { guest: target.name, nic: options.nic, direction: options.direction });
    return this;
  }

  /**
   * Puts the policy on Open vSwitch: on `network`'s port of `options.host`'s integration bridge (a
   * network of an overlay cluster). An HTB policy becomes linux-htb QoS on the port, a queue per leaf
   * class (min-rate its rate, max-rate its ceil), with flows that set each class's queue by its
   * matches: it shapes what the switch sends into the network there ("ingress"). A meter polices
   * what crosses the port either way. Traffic between two guests of the network on that host stays
   * on its Linux bridge and never meets the switch: shape that with a policy on the guests.
   */
  applyToSwitch(network: Network, options: { readonly host: { readonly name: string } | string; readonly direction?: "ingress" | "egress" }): this {
    sameLab(this._lab, network, this.node.path, "network");
    const host = typeof options.host === "string" ? options.host : options.host.name;
    this.targets.push({ network: network.segmentName, host, direction: options.direction ?? "ingress" });
    return this;
  }

  /** @internal */
  _spec(): QosPolicySpec {
    const p = this.props;
    const kind = p.kind ?? "htb";
    const shape: QosPolicySpec["shape"] =
      kind === "tbf" ? { kind: "tbf", rate: p.rate!.bitsPerSecond, burst: p.burst, latencyMs: p.latencyMs }
      : kind === "queue" ? { kind: "queue", queue: p.queue!._spec }
      : kind === "netem" ? { kind: "netem", delayMs: p.delayMs, jitterMs: p.jitterMs, lossPercent: p.lossPercent, rate: p.rate?.bitsPerSecond }
      : kind === "meter" ? { kind: "meter", rate: p.rate!.bitsPerSecond, burstBits: p.burstBits }
      : { kind: "htb", root: this.root._spec(), defaultClass: this.defaultClass?.node.id ?? "", oversubscribe: p.oversubscribe };
    return { name: this.name, path: this.node.path, shape, targets: [...this.targets] };
  }
}
