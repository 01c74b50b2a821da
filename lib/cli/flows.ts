import { Inventory } from "../render/inventory";
import { Exec, OvsSwitch, bridgesOf, clustersOn, execFile } from "./ovs-switch";

/** One flow of `ovs-ofctl dump-flows`, taken apart. */
interface Flow {
  readonly cookie: string;
  readonly table: number;
  readonly packets?: number;
  /** Match and actions, without the cookie, table and counters. */
  readonly text: string;
}

/** The flow's own fields come first, each followed by ", "; the match and actions (no spaces in them but one) last. */
function parseFlow(line: string): Flow | undefined {
  const parts = line.trim().split(", ");
  const fields = new Map(parts.slice(0, -1).map((p) => p.split("=") as [string, string]));
  const cookie = fields.get("cookie");
  if (!cookie) return undefined;
  const packets = fields.get("n_packets");
  const kept = [...fields].filter(([k]) => !["cookie", "duration", "table", "n_packets", "n_bytes", "idle_age", "hard_age"].includes(k));
  return {
    cookie, table: Number(fields.get("table") ?? 0), packets: packets === undefined ? undefined : Number(packets),
    text: [...kept.map(([k, v]) => `${k}=${v}`), parts[parts.length - 1]].join(", "),
  };
}

/**
 * `cloudnet flows <lab> <host>`: the lab's flows on each of the host's cluster bridges (integration,
 * tunnel, and on emulated hosts the provider bridge), table by
 * table, each table with what it does (the README's table of tables), highest priority first.
 * Learned flows (from `learn()`) are marked; other tools' flows on the same bridges are not shown.
 */
export function flowsReport(lab: Inventory, host: string, options: { stats: boolean }, exec: Exec = execFile): string[] {
  const out: string[] = [];
  for (const { cluster, runDir } of clustersOn(lab, host)) {
    const ovs = new OvsSwitch(runDir, exec);
    out.push(`lab ${lab.lab}, host ${host}: cluster ${cluster.name} (${cluster.tunnel}), cookie ${cluster.cookie}`);
    for (const { bridge, role, tables } of bridgesOf(cluster, host)) {
      const flows = ovs.dumpFlows(bridge, options.stats).map(parseFlow)
        .filter((f): f is Flow => f !== undefined && (f.cookie === cluster.cookie || f.cookie === cluster.learnedCookie));
      out.push("", `${role} ${bridge}: ${flows.length} flow${flows.length === 1 ? "" : "s"}`);
      const width = Math.max(0, ...flows.map((f) => String(f.packets ?? "").length));
      for (const table of [...new Set(flows.map((f) => f.table))].sort((a, b) => a - b)) {
        out.push(`  table ${table}: ${tables.get(table) ?? "(not a table of the lab's pipeline)"}`);
        for (const f of flows.filter((x) => x.table === table)) {
          const counter = f.packets === undefined ? "" : `${String(f.packets).padStart(width)} pkts  `;
          out.push(`    ${counter}${f.text}${f.cookie === cluster.learnedCookie ? "  (learned)" : ""}`);
        }
      }
    }
  }
  return out;
}
