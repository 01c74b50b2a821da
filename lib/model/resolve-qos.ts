import { Cidr, InvalidValueError, Rate, kernelName, shortHash } from "../net";
import { ResolveContext } from "./context";
import { Guest, Host, QosAttachment, QosClass, QosFilter, QosPolicy, QosQueue, QosSwitchPort, QosUplink, Segment } from "./lab";
import { QosClassSpec, QosMatchSpec, QosPolicySpec, QosQueueSpec, QosTargetSpec } from "./spec";

/** The clock tc's HTB and TBF meter bursts against, at its coarsest common setting: burst ≥ rate / HZ. */
export const QOS_HZ = 250;
/** HTB's quantum must stay within these (bytes), or its borrowing loses precision. */
export const QUANTUM_MIN = 1500;
export const QUANTUM_MAX = 60000;
/** A full Ethernet frame; bursts hold at least two. */
const FRAME = 1514;
/** A leaf's default queue holds what its ceil sends in this long: deep enough to keep a TCP flow's class busy, short enough that a slow class's flows learn of congestion within a few round trips. */
export const QUEUE_LATENCY_MS = 20;
/** tc's minor numbers. */
const MAX_CLASSES = 0xffff;

/** The lab's tc major handle, from its prefix: a root qdisc with it is the lab's. */
export function qosMajor(prefix: string): number {
  return 0x100 + (parseInt(shortHash(`cloudnet-qos/${prefix}`, 8), 16) % 0xfe00);
}

/** Bytes a rate sends in one tick of QOS_HZ, or two frames if that is more. */
export function minBurst(rate: Rate): number {
  return Math.max(Math.ceil(rate.bytesPerSecond / QOS_HZ), 2 * FRAME);
}

/**
 * The policies: each HTB tree checked as the kernel would meet it (rates, ceils, prios, bursts,
 * quanta, the class count), its classes numbered, its filters rendered to u32 selectors; each target
 * resolved to the device it shapes. Quanta default to proportional to the classes' rates, scaled so
 * the fastest leaf's is 60,000 bytes: HTB's DRR deals spare bandwidth to borrowing classes by quanta.
 */
export function resolveQos(ctx: ResolveContext, hosts: readonly Host[], guests: readonly Guest[], segments: readonly Segment[], warnings: Array<{ path: string; message: string }>): QosPolicy[] {
  const major = qosMajor(ctx.prefix);
  const seen = new Map<string, string>();
  const targeted = new Map<string, string>();
  const specs = ctx.spec.qosPolicies ?? [];
  // A guest's own policy wins over its tenant's default, whichever was declared first.
  const direct = new Set(specs.flatMap((p) => p.targets.filter((t) => t.guest !== undefined).map((t) => `${t.guest}/${t.nic ?? 0}/${t.direction}`)));
  const meters = new Map<string, number>();
  return specs.map((p): QosPolicy | undefined => {
    if (seen.has(p.name)) ctx.issues.add(p.path, `QoS policy name '${p.name}' is already used by ${seen.get(p.name)}; give each policy its own name.`);
    seen.set(p.name, p.path);
    const onSwitch = (t: QosTargetSpec) => t.network !== undefined;
    const onUplink = (t: QosTargetSpec) => t.network === undefined && t.guest === undefined && t.tenant === undefined && t.host !== undefined;
    const uplinks = p.targets.filter(onUplink).map((t) => uplink(ctx, p, t, hosts, targeted)).filter((x): x is QosUplink => x !== undefined);
    const attachments = p.targets.filter((t) => !onSwitch(t) && !onUplink(t))
      .flatMap((t) => t.tenant !== undefined ? tenantAttachments(ctx, p, t, guests, segments, direct, targeted) : [attachment(ctx, p, t, guests, targeted)])
      .filter((a): a is QosAttachment => a !== undefined);
    const switchPorts = p.targets.filter(onSwitch).map((t) => switchPort(ctx, p, t, segments, targeted, meters)).filter((x): x is QosSwitchPort => x !== undefined);
    if (p.shape.kind === "meter") {
      if (attachments.length + uplinks.length > 0) ctx.issues.add(p.path, `QoS policy '${p.name}' is a meter, which polices on Open vSwitch ports; attach it with applyToSwitch(network, { host }), or make it a token bucket (kind "tbf") for a guest or a host's uplink.`);
      const rate = rateOf(ctx, p.path, p.shape.rate, "rate");
      if (!rate) return undefined;
      if (rate.bitsPerSecond < 1000 || rate.bitsPerSecond % 1000 !== 0) ctx.issues.add(p.path, `QoS policy '${p.name}': meter rate ${rate} is not a whole number of kbit/s, OpenFlow's unit for meters.`);
      const burstBits = p.shape.burstBits ?? Math.max(Math.round(rate.bitsPerSecond / 4 / 1000) * 1000, 1000 * Math.ceil((16 * FRAME) / 1000));
      if (!Number.isInteger(burstBits) || burstBits < 8 * 2 * FRAME) ctx.issues.add(p.path, `QoS policy '${p.name}': meter burst ${burstBits} bits is below two frames (${8 * 2 * FRAME} bits); leave it out for 250 ms of the rate.`);
      return { name: p.name, path: p.path, major, shape: { kind: "meter", rate, burstBits }, attachments: [], switchPorts, uplinks: [] };
    }
    if (switchPorts.length > 0 && p.shape.kind !== "htb") ctx.issues.add(p.path, `QoS policy '${p.name}' (kind "${p.shape.kind}") cannot go on an Open vSwitch port, whose QoS is linux-htb queues or meters; make it kind "htb" or "meter", or apply it to guests.`);
    if (p.targets.length === 0) warnings.push({ path: p.path, message: `QoS policy '${p.name}' applies to nothing yet; attach it to a guest NIC, a tenant or a host's uplink.` });
    if (p.shape.kind === "tbf") {
      const rate = rateOf(ctx, p.path, p.shape.rate, "rate");
      if (!rate) return undefined;
      const burst = p.shape.burst ?? minBurst(rate);
      if (p.shape.burst !== undefined && p.shape.burst < minBurst(rate)) {
        ctx.issues.add(p.path, `burst ${p.shape.burst} bytes is below what ${rate} sends in one tick (${minBurst(rate)} bytes at HZ ${QOS_HZ}); the rate could not be reached: raise it or leave it out.`);
      }
      const latencyMs = p.shape.latencyMs ?? 50;
      if (!Number.isInteger(latencyMs) || latencyMs < 1 || latencyMs > 10_000) ctx.issues.add(p.path, `latency ${latencyMs} ms is out of range 1-10,000.`);
      return { name: p.name, path: p.path, major, shape: { kind: "tbf", rate, burst, latencyMs }, attachments, switchPorts: [], uplinks };
    }
    if (p.shape.kind === "queue") {
      const queue = resolveQueue(ctx, p.path, p.shape.queue, undefined);
      return queue && { name: p.name, path: p.path, major, shape: { kind: "queue", queue }, attachments, switchPorts: [], uplinks };
    }
    if (p.shape.kind === "netem") {
      const n = p.shape;
      const rate = n.rate === undefined ? undefined : rateOf(ctx, p.path, n.rate, "rate");
      const checks: Array<[string, number | undefined, number, number]> = [["delayMs", n.delayMs, 0, 60_000], ["jitterMs", n.jitterMs, 0, 60_000], ["lossPercent", n.lossPercent, 0, 100]];
      for (const [what, v, lo, hi] of checks) {
        if (v !== undefined && !(Number.isFinite(v) && v >= lo && v <= hi)) ctx.issues.add(p.path, `QoS policy '${p.name}': ${what} ${v} is out of range ${lo}-${hi.toLocaleString("en")}.`);
      }
      if (n.jitterMs && !n.delayMs) ctx.issues.add(p.path, `QoS policy '${p.name}': jitter ${n.jitterMs} ms needs a delay to vary around; give delayMs.`);
      if (!n.delayMs && !n.jitterMs && !n.lossPercent && n.rate === undefined) ctx.issues.add(p.path, `QoS policy '${p.name}' impairs nothing; give a delay, a loss or a rate.`);
      return { name: p.name, path: p.path, major, shape: { kind: "netem", delayMs: n.delayMs ?? 0, jitterMs: n.jitterMs ?? 0, lossPercent: n.lossPercent ?? 0, rate }, attachments, switchPorts: [], uplinks };
    }
    const oversubscribe = p.shape.oversubscribe ?? false;
    const classes: QosClass[] = [];
    const byName = new Map<string, QosClassSpec>();
    const filters: QosFilter[] = [];
    const walk = (c: QosClassSpec, parent: number, parentCeil: Rate | undefined): void => {
      if (byName.has(c.name)) ctx.issues.add(c.path, `class name '${c.name}' is already used in policy '${p.name}'; give each class its own name.`);
      byName.set(c.name, c);
      const rate = rateOf(ctx, c.path, c.rate, "rate");
      const ceil = c.ceil === undefined ? parentCeil ?? rate : rateOf(ctx, c.path, c.ceil, "ceil");
      if (!rate || !ceil) return;
      if (ceil.compare(rate) < 0) ctx.issues.add(c.path, `class '${c.name}': ceil ${ceil} is below its rate ${rate}; a class may borrow up to its ceil, never below its guarantee: raise ceil to at least ${rate}.`);
      if (parentCeil && ceil.compare(parentCeil) > 0) ctx.issues.add(c.path, `class '${c.name}': ceil ${ceil} is above its parent's ceil ${parentCeil}, which it can never get; lower it to at most ${parentCeil}.`);
      const prio = c.prio ?? 0;
      if (!Number.isInteger(prio) || prio < 0 || prio > 7) ctx.issues.add(c.path, `class '${c.name}': prio ${prio} is out of range 0-7.`);
      for (const [what, value, need] of [["burst", c.burst, minBurst(rate)], ["cburst", c.cburst, minBurst(ceil)]] as const) {
        if (value !== undefined && value < need) {
          ctx.issues.add(c.path, `class '${c.name}': ${what} ${value} bytes is below what ${what === "burst" ? rate : ceil} sends in one tick (${need} bytes at HZ ${QOS_HZ}); raise it or leave it out.`);
        }
      }
      if (c.quantum !== undefined && (!Number.isInteger(c.quantum) || c.quantum < QUANTUM_MIN || c.quantum > QUANTUM_MAX)) {
        ctx.issues.add(c.path, `class '${c.name}': quantum ${c.quantum} bytes is out of range ${QUANTUM_MIN.toLocaleString("en")}-${QUANTUM_MAX.toLocaleString("en")}, where HTB shares precisely; leave it out to have it follow the rate.`);
      }
      const minor = classes.length + 1;
      const children = c.children ?? [];
      if (c.queue && children.length > 0) ctx.issues.add(c.path, `class '${c.name}' has children, so it holds no queue of its own; give the queue to its leaves.`);
      const queue = children.length === 0 ? resolveQueue(ctx, c.path, c.queue ?? { kind: "bfifo" }, ceil) : undefined;
      classes.push({ name: c.name, minor, parent, rate, ceil, prio, burst: c.burst ?? minBurst(rate), cburst: c.cburst ?? minBurst(ceil), quantum: c.quantum ?? 0, leaf: children.length === 0, queue });
      const sum = children.reduce((n, x) => n + (Number.isFinite(x.rate) && x.rate > 0 ? x.rate : 0), 0);
      if (sum > rate.bitsPerSecond) {
        const message = `class '${c.name}': its children's rates add up to ${Rate.bit(sum)}, above its own rate ${rate}, so their guarantees cannot all hold`;
        if (oversubscribe) warnings.push({ path: c.path, message: `${message} (oversubscribed, as the policy allows).` });
        else ctx.issues.add(c.path, `${message}; lower them, raise its rate, or allow it with oversubscribe: true.`);
      }
      if (c.matches && children.length > 0) ctx.issues.add(c.path, `class '${c.name}' has children, so traffic sent to it would not be shaped by them; put its matches on one of its leaves.`);
      for (const m of (c.matches ?? []).flatMap((x) => withGuestAddresses(ctx, c.path, x, guests))) {
        const match = u32Selectors(ctx, c.path, m);
        if (match) filters.push({ ...match, minor, path: c.path });
      }
      for (const child of children) walk(child, minor, ceil);
    };
    walk(p.shape.root, 0, undefined);
    if (classes.length > MAX_CLASSES) ctx.issues.add(p.path, `policy '${p.name}' has ${classes.length.toLocaleString("en")} classes; tc numbers at most ${MAX_CLASSES.toLocaleString("en")} under one qdisc.`);
    const htb = p.shape;
    const fallback = classes.find((c) => c.name === htb.defaultClass);
    if (!fallback) {
      ctx.issues.add(p.path, `policy '${p.name}': default class '${htb.defaultClass}' is not one of its classes (${classes.map((c) => c.name).join(", ")}); name the leaf that unmatched traffic goes to.`);
      return undefined;
    }
    if (!fallback.leaf) ctx.issues.add(p.path, `policy '${p.name}': default class '${fallback.name}' has children; name a leaf for unmatched traffic.`);
    checkShadowed(ctx, filters);
    if (switchPorts.length > 0) {
      const nested = classes.find((c) => c.parent !== 0 && c.parent !== 1);
      if (nested) ctx.issues.add(p.path, `policy '${p.name}': class '${nested.name}' is nested, but Open vSwitch's linux-htb has one level of queues under its root; put the classes straight under the root to use it on a switch port.`);
    }
    return { name: p.name, path: p.path, major, shape: { kind: "htb", classes: withQuanta(classes), defaultMinor: fallback.minor, filters }, attachments, switchPorts, uplinks };
  }).filter((x): x is QosPolicy => x !== undefined);
}

/** A queue with its sizes set; a bfifo's default limit is what `ceil` sends in QUEUE_LATENCY_MS. */
function resolveQueue(ctx: ResolveContext, path: string, q: QosQueueSpec, ceil: Rate | undefined): QosQueue | undefined {
  const whole = (what: string, v: number, lo: number, hi: number): boolean => {
    if (Number.isInteger(v) && v >= lo && v <= hi) return true;
    ctx.issues.add(path, `${q.kind} ${what} ${v} is out of range ${lo.toLocaleString("en")}-${hi.toLocaleString("en")}.`);
    return false;
  };
  switch (q.kind) {
    case "bfifo": {
      const limitBytes = q.limitBytes ?? (ceil ? Math.max(10 * FRAME, Math.ceil((ceil.bytesPerSecond * QUEUE_LATENCY_MS) / 1000)) : 100 * FRAME);
      return whole("limitBytes", limitBytes, 2 * FRAME, 1 << 30) ? { kind: "bfifo", limitBytes } : undefined;
    }
    case "pfifo":
      return whole("limitPackets", q.limitPackets, 2, 1_000_000) ? { kind: "pfifo", limitPackets: q.limitPackets } : undefined;
    case "sfq": {
      const perturbSeconds = q.perturbSeconds ?? 10;
      return whole("perturbSeconds", perturbSeconds, 0, 3600) ? { kind: "sfq", perturbSeconds } : undefined;
    }
    case "fq_codel": {
      const targetMs = q.targetMs ?? 5;
      const intervalMs = q.intervalMs ?? 100;
      if (!whole("targetMs", targetMs, 1, 10_000) || !whole("intervalMs", intervalMs, 1, 100_000)) return undefined;
      if (targetMs >= intervalMs) {
        ctx.issues.add(path, `fq_codel target ${targetMs} ms is not below its interval ${intervalMs} ms; CoDel's target is a small part of the interval (5 of 100 by default).`);
        return undefined;
      }
      return { kind: "fq_codel", targetMs, intervalMs };
    }
  }
}

function rateOf(ctx: ResolveContext, path: string, bits: number, what: string): Rate | undefined {
  return ctx.issues.check(path, () => {
    try {
      return Rate.bit(bits);
    } catch (e) {
      throw new InvalidValueError(`${what} is invalid: ${(e as Error).message}`);
    }
  });
}

/**
 * Quanta that were not set: proportional to the rate, the fastest leaf's 60,000 bytes (leaves are
 * what HTB deals quanta to), none below 1,500 nor above 60,000.
 */
function withQuanta(classes: readonly QosClass[]): QosClass[] {
  const top = Math.max(...classes.filter((c) => c.leaf).map((c) => c.rate.bytesPerSecond));
  const quantum = (c: QosClass) => Math.min(QUANTUM_MAX, Math.max(QUANTUM_MIN, Math.round((c.rate.bytesPerSecond / top) * QUANTUM_MAX)));
  return classes.map((c) => (c.quantum ? c : { ...c, quantum: quantum(c) }));
}

/** A cluster network's port on a host's integration bridge; meters numbered per host. */
function switchPort(ctx: ResolveContext, p: QosPolicySpec, t: QosTargetSpec, segments: readonly Segment[], targeted: Map<string, string>, meters: Map<string, number>): QosSwitchPort | undefined {
  const s = segments.find((x) => x.name === t.network);
  if (!s) {
    ctx.issues.add(p.path, `QoS policy '${p.name}' names network '${t.network}', which is not in the lab.`);
    return undefined;
  }
  if (!s.cluster) {
    ctx.issues.add(p.path, `QoS policy '${p.name}': network '${s.name}' is not on an overlay cluster, so its traffic never crosses Open vSwitch; apply the policy to its guests (tc) instead.`);
    return undefined;
  }
  const host = t.host!;
  if (s.localVlans?.[host] === undefined) {
    ctx.issues.add(p.path, `QoS policy '${p.name}': network '${s.name}' has no port on host '${host}' (it is on ${Object.keys(s.localVlans ?? {}).sort().join(", ") || "no host"}).`);
    return undefined;
  }
  if (p.shape.kind === "htb" && t.direction !== "ingress") {
    ctx.issues.add(p.path, `QoS policy '${p.name}': linux-htb queues shape what a port sends, which is traffic into the network ("ingress"); police what it takes with a meter (kind "meter").`);
    return undefined;
  }
  const key = `switch/${s.name}/${host}/${t.direction}`;
  if (targeted.has(key)) ctx.issues.add(p.path, `network '${s.name}' on host '${host}' (${t.direction}) already has QoS policy '${targeted.get(key)}'; a switch port takes one.`);
  targeted.set(key, p.name);
  let meterId: number | undefined;
  if (p.shape.kind === "meter") {
    meterId = (meters.get(host) ?? 0) + 1;
    meters.set(host, meterId);
  }
  return { host, cluster: s.cluster, segment: s.name, port: s.ovsPort!, direction: t.direction, meterId };
}

/** A host's uplink: egress shapes the uplink itself, ingress an IFB fed from its ingress. */
function uplink(ctx: ResolveContext, p: QosPolicySpec, t: QosTargetSpec, hosts: readonly Host[], targeted: Map<string, string>): QosUplink | undefined {
  const h = hosts.find((x) => x.name === t.host);
  if (!h) {
    ctx.issues.add(p.path, `QoS policy '${p.name}' names host '${t.host}', which is not in the lab (it has ${hosts.map((x) => x.name).join(", ")}).`);
    return undefined;
  }
  const key = `uplink/${h.name}/${t.direction}`;
  if (targeted.has(key)) ctx.issues.add(p.path, `host '${h.name}' uplink ${h.uplink} (${t.direction}) already has QoS policy '${targeted.get(key)}'; a device takes one root qdisc.`);
  targeted.set(key, p.name);
  // "u": the uplink's IFB (one letter, as the converge's link patterns expect).
  return { host: h.name, direction: t.direction, dev: t.direction === "egress" ? h.uplink : kernelName(ctx.prefix, "u", h.name), uplink: h.uplink };
}

/** A tenant's default: every NIC of its guests on its networks that has no policy of its own in this direction. */
function tenantAttachments(ctx: ResolveContext, p: QosPolicySpec, t: QosPolicySpec["targets"][number], guests: readonly Guest[], segments: readonly Segment[], direct: ReadonlySet<string>, targeted: Map<string, string>): Array<QosAttachment | undefined> {
  const own = new Set(segments.filter((s) => s.tenant === t.tenant).map((s) => s.name));
  if (own.size === 0) {
    ctx.issues.add(p.path, `QoS policy '${p.name}' names tenant '${t.tenant}', which has no network in the lab.`);
    return [];
  }
  return guests.flatMap((g) => g.nics.filter((n) => own.has(n.segment) && !direct.has(`${g.name}/${n.index}/${t.direction}`))
    .map((n) => attachment(ctx, p, { guest: g.name, nic: n.index, direction: t.direction }, guests, targeted, t.tenant)));
}

function attachment(ctx: ResolveContext, p: QosPolicySpec, t: QosPolicySpec["targets"][number], guests: readonly Guest[], targeted: Map<string, string>, tenant?: string): QosAttachment | undefined {
  const guest = guests.find((g) => g.name === t.guest);
  if (!guest) {
    ctx.issues.add(p.path, `QoS policy '${p.name}' names guest '${t.guest}', which is not in the lab.`);
    return undefined;
  }
  const index = t.nic ?? 0;
  const nic = guest.nics[index];
  if (!nic) {
    ctx.issues.add(p.path, `QoS policy '${p.name}': guest '${guest.name}' has no NIC ${index} (it has ${guest.nics.length}).`);
    return undefined;
  }
  if (!ctx.emulated && guest.compute.kind === "container") {
    ctx.issues.add(p.path, `QoS policy '${p.name}': container '${guest.name}' on a real host has no device the lab can shape (Docker names its host-side veth at random); make it a VM or a namespace guest.`);
    return undefined;
  }
  if (!ctx.emulated && guest.compute.kind === "vm") {
    ctx.issues.add(p.path, `QoS policy '${p.name}': VM '${guest.name}' on a real host is not shaped yet (its TAP appears only when libvirt starts it, after the lab's stages); use an emulated lab or a namespace guest.`);
    return undefined;
  }
  const key = `${guest.name}/${index}/${t.direction}`;
  if (targeted.has(key)) ctx.issues.add(p.path, `guest '${guest.name}' NIC ${index} (${t.direction}) already has QoS policy '${targeted.get(key)}'; a device takes one root qdisc.`);
  targeted.set(key, p.name);
  // "y": the IFB device ("f" names the fabric's ports; one letter, as the converge's link patterns expect).
  const dev = t.direction === "ingress" ? nic.hostDev : kernelName(ctx.prefix, "y", `${guest.name}-${index}`);
  return { host: guest.host, guest: guest.name, nic: index, direction: t.direction, dev, hostDev: nic.hostDev, segment: nic.segment, tenant };
}

/** A match naming guests, as one match per combination of their IPv4 addresses. */
function withGuestAddresses(ctx: ResolveContext, path: string, m: QosMatchSpec, guests: readonly Guest[]): QosMatchSpec[] {
  const addresses = (name: string | undefined, given: string | undefined): Array<string | undefined> => {
    if (name === undefined) return [given];
    const g = guests.find((x) => x.name === name);
    if (!g) {
      ctx.issues.add(path, `match names guest '${name}', which is not in the lab.`);
      return [];
    }
    return g.nics.filter((n) => n.address.family === 4).map((n) => n.address.toString());
  };
  return addresses(m.sourceGuest, m.source).flatMap((source) =>
    addresses(m.destinationGuest, m.destination).map((destination) => ({ ...m, source, destination, sourceGuest: undefined, destinationGuest: undefined })));
}

/** tc u32 selectors for a match (none given matches all IPv4), and the same match in OpenFlow's words. */
function u32Selectors(ctx: ResolveContext, path: string, m: QosMatchSpec): { selectors: string[]; flow: string } | undefined {
  const out: string[] = [];
  const flow: string[] = [m.protocol ?? "ip"];
  for (const [field, value] of [["src", m.source], ["dst", m.destination]] as const) {
    if (value === undefined) continue;
    const cidr = ctx.issues.check(path, () => Cidr.parse(value.includes("/") ? value : `${value}/32`));
    if (!cidr) return undefined;
    if (cidr.family !== 4) {
      ctx.issues.add(path, `match ${field} ${value}: u32 filters are rendered for IPv4; give an IPv4 address or CIDR.`);
      return undefined;
    }
    out.push(`match ip ${field} ${cidr}`);
    flow.push(`nw_${field}=${cidr}`);
  }
  const protocols = { tcp: 6, udp: 17, icmp: 1 } as const;
  if (m.protocol !== undefined) out.push(`match ip protocol ${protocols[m.protocol]} 0xff`);
  for (const [field, value] of [["sport", m.sourcePort], ["dport", m.destinationPort]] as const) {
    if (value === undefined) continue;
    if (m.protocol !== "tcp" && m.protocol !== "udp") {
      ctx.issues.add(path, `match ${field === "sport" ? "sourcePort" : "destinationPort"} ${value} needs protocol tcp or udp: without it, the filter could never match as meant.`);
      return undefined;
    }
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      ctx.issues.add(path, `match port ${value} is out of range 1-65535.`);
      return undefined;
    }
    out.push(`match ip ${field} ${value} 0xffff`);
    flow.push(`tp_${field === "sport" ? "src" : "dst"}=${value}`);
  }
  return { selectors: out.length > 0 ? out : ["match u32 0 0"], flow: flow.join(",") };
}

/** A filter that an earlier one matches wholly (same selectors, or a superset after a catch-all) never gets a packet. */
function checkShadowed(ctx: ResolveContext, filters: readonly QosFilter[]): void {
  filters.forEach((f, i) => {
    const earlier = filters.slice(0, i).find((e) => e.selectors.every((s) => s === "match u32 0 0" || f.selectors.includes(s)));
    if (earlier && earlier.minor !== f.minor) {
      ctx.issues.add(f.path, `a match (${f.selectors.join(" ")}) can never apply: an earlier one (${earlier.selectors.join(" ")}) takes all its packets to another class; narrow the earlier one or remove this one.`);
    }
  });
}
