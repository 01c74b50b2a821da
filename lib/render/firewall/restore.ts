import { heredoc, sh } from "../../net";
import { Family } from "../../model";
import { Ruleset, chainMarker } from "./ruleset";

export const TOOLS: Record<Family, { restore: string; save: string; cmd: string }> = {
  4: { restore: "iptables-restore", save: "iptables-save", cmd: "iptables" },
  6: { restore: "ip6tables-restore", save: "ip6tables-save", cmd: "ip6tables" },
};

/** The `iptables-restore --noflush` payload: every chain it names is created or flushed and refilled, atomically per table. */
export function restorePayload(rs: Ruleset): string {
  const lines: string[] = [];
  for (const t of rs.tables()) {
    lines.push(`*${t.table}`);
    for (const c of t.chains) lines.push(`:${c.name} - [0:0]`);
    for (const c of t.chains) for (const r of c.rules) lines.push(`-A ${c.name} ${r}`);
    lines.push("COMMIT");
  }
  return lines.join("\n") + "\n";
}

/**
 * Apply: one restore (atomic per table, so a failure keeps the previous rules), then the hooks
 * (each made the first rule of its built-in chain again, in case another tool inserted above it),
 * then chains of this lab that the new rules no longer name are removed. Applying the same ruleset
 * twice changes nothing.
 */
export function applyRuleset(rs: Ruleset): string[] {
  const t = TOOLS[rs.family];
  const ns = rs.netns ?? "-";
  const lines = rs.isEmpty ? [] : [heredoc(sh`cn_in ${ns} ${t.restore} -w --noflush`, restorePayload(rs))];
  for (const h of rs.hooks) lines.push(sh`cn_hook_first ${ns} ${t.cmd} ${h.table} ${h.builtin} ${h.chain}`);
  // Every table, also those the rules no longer use (e.g. a router whose last service went away).
  const tables = new Map(rs.tables().map((x) => [x.table, x.chains.map((c) => c.name).join(",")]));
  for (const table of TABLES) {
    lines.push(sh`cn_fw_prune ${ns} ${t.cmd} ${t.save} ${table} ${chainMarker(rs.prefix)} ${tables.get(table) || "-"}`);
  }
  return lines;
}

export const TABLES = ["raw", "mangle", "nat", "filter"] as const;

