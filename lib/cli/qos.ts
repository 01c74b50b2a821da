import { Inventory, InventoryQos } from "../render/inventory";
import { Exec, execFile } from "./ovs-switch";

/** A class's (or a classless root's) counters, as `tc -s` prints them. */
export interface TcCounters {
  readonly bytes: number;
  readonly packets: number;
  readonly drops: number;
  readonly overlimits: number;
  /** HTB: packets sent on tokens borrowed from the parent. */
  readonly borrowed: number;
  readonly backlogBytes: number;
}

/**
 * Counters by handle from `tc -s class show` (classes, keyed by classid) or `tc -s qdisc show`
 * (qdiscs, keyed by handle). This iproute2 prints no JSON for classes, so the text is read: each
 * object's first line names it, the lines under it (indented) hold its counters.
 */
export function parseTcStats(text: string, what: "class" | "qdisc"): Map<string, TcCounters> {
  const out = new Map<string, TcCounters>();
  for (const block of text.split(new RegExp(`^(?=${what} )`, "m"))) {
    const head = new RegExp(`^${what} \\S+ ([0-9a-f]+:[0-9a-f]*)`).exec(block);
    if (!head) continue;
    const num = (re: RegExp) => Number(re.exec(block)?.[1] ?? 0);
    out.set(head[1], {
      bytes: num(/Sent (\d+) bytes/), packets: num(/bytes (\d+) pkt/), drops: num(/dropped (\d+)/),
      overlimits: num(/overlimits (\d+)/), borrowed: num(/borrowed: (\d+)/), backlogBytes: num(/backlog (\d+)b/),
    });
  }
  return out;
}

/** One reading of every shaped device of `entries`, by device, then by handle. */
export function readCounters(netnsOf: (host: string) => string, entries: readonly InventoryQos[], exec: Exec = execFile): Map<string, Map<string, TcCounters>> {
  const out = new Map<string, Map<string, TcCounters>>();
  for (const e of entries.filter((x) => x.kind !== "meter")) {
    const what = e.kind === "htb" ? "class" : "qdisc";
    out.set(e.dev, parseTcStats(exec("ip", ["netns", "exec", netnsOf(e.host), "tc", "-s", what, "show", "dev", e.dev]), what));
  }
  return out;
}

/** The lab's shaped devices on a host, or a guest's. */
export function qosEntries(lab: Inventory, node: string): InventoryQos[] {
  const known = lab.nodes.find((n) => n.name === node && (n.kind === "host" || n.kind === "guest"));
  if (!known) throw new Error(`lab ${lab.lab} has no host or guest '${node}' (it has ${lab.nodes.filter((n) => n.kind === "host" || n.kind === "guest").map((n) => n.name).join(", ")}).`);
  const entries = (lab.qos ?? []).filter((q) => (known.kind === "host" ? q.host === node : q.guest === node));
  if (entries.length === 0) throw new Error(`lab ${lab.lab} shapes nothing on ${known.kind} ${node}: no QoS policy is applied ${known.kind === "host" ? "to it, its uplink or a guest on it" : "to it"}.`);
  return entries;
}

const mbit = (bits: number) => (bits / 1e6).toFixed(1);

/**
 * `cloudnet qos <lab> <node>`: each shaped device's classes with their configured rate and ceil
 * and, between two readings `seconds` apart, their live rate, drops and borrowing (packets sent on
 * tokens borrowed from the parent), in Mbit/s.
 */
export function qosReport(lab: Inventory, entries: readonly InventoryQos[], before: Map<string, Map<string, TcCounters>>, after: Map<string, Map<string, TcCounters>>, seconds: number): string[] {
  const out = [`lab ${lab.lab}: live rates over ${seconds} s, in Mbit/s`];
  for (const e of entries) {
    const toward = e.direction === "ingress" ? "to" : "from";
    out.push("", e.network !== undefined
      ? `network ${e.network} on ${e.host}, traffic ${toward} it through Open vSwitch: policy ${e.policy} (${e.kind}) on switch port ${e.dev}`
      : e.uplink !== undefined
        ? `${e.host}'s uplink ${e.uplink}, traffic ${e.direction === "ingress" ? "into" : "out of"} the host: policy ${e.policy} (${e.kind}), device ${e.dev}`
        : `${e.guest} NIC ${e.nic}, traffic ${toward} it: policy ${e.policy} (${e.kind}) on ${e.host}, device ${e.dev}`);
    if (e.kind === "meter") {
      out.push("  (an OpenFlow meter: its counters are in ovs-ofctl meter-stats of the integration bridge)");
      continue;
    }
    if (e.classes.length === 0) {
      out.push(`  (a ${e.kind} qdisc: no rate to show)`);
      continue;
    }
    const rows = [["CLASS", "CLASSID", "RATE", "CEIL", "LIVE", "DROPS", "BORROWED", "BACKLOG"]];
    for (const c of e.classes) {
      const a = before.get(e.dev)?.get(c.classid);
      const b = after.get(e.dev)?.get(c.classid);
      if (!a || !b) {
        rows.push([c.name, c.classid, mbit(c.rateBit), c.ceilBit ? mbit(c.ceilBit) : "-", "missing", "", "", ""]);
        continue;
      }
      const live = ((b.bytes - a.bytes) * 8) / seconds;
      rows.push([
        c.leaf ? c.name : `${c.name} (inner)`, c.classid, mbit(c.rateBit), c.ceilBit ? mbit(c.ceilBit) : "-", mbit(live),
        String(b.drops - a.drops), e.kind === "htb" ? String(b.borrowed - a.borrowed) : "-", `${b.backlogBytes}b`,
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) out.push(`  ${r.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd()}`);
  }
  return out;
}
