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

/**
 * Shell helpers used by apply and teardown: `cn_in NETNS CMD...` runs CMD in a namespace ("-": here);
 * `cn_fw_prune NETNS CMD SAVE TABLE MARKER KEEP` removes every
 * chain whose name starts with MARKER and is not in the comma-separated KEEP list ("-" keeps none):
 * first the hooks into it from the built-in chains, then its rules, then the chain. Static text: the
 * values arrive as arguments, never as code, and only `-j <chain>` hooks are deleted, so rules of
 * other tools are never read back into a command.
 */
export const FIREWALL_HELPERS = [
  "cn_in() { local ns=$1; shift; if [ \"$ns\" = - ]; then \"$@\"; else ip netns exec \"$ns\" \"$@\"; fi; }",
  "# cn_hook_first NETNS CMD TABLE BUILTIN CHAIN: the jump to CHAIN is in BUILTIN once, with nothing above it but other",
  "# labs' hooks (they each guard only their own devices). One that another tool pushed down is replaced by a new one",
  "# on top, inserted before the old one goes (no gap).",
  "cn_hook_first() {",
  "  local ns=$1 cmd=$2 table=$3 builtin=$4 chain=$5 n",
  "  local rule=\"-A $builtin -j $chain\"",
  "  cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -S \"$builtin\" | awk -v r=\"$rule\" -v lab=\"-A $builtin -j CN-\" \\",
  "    'NR == 1 { next } $0 == r { found++; next } !found && index($0, lab) != 1 { above = 1 } END { exit !(found == 1 && !above) }' && return 0",
  "  cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -I \"$builtin\" 1 -j \"$chain\"",
  // Rule n is line n + 1 of -S (its first line is the policy); the copies go from the bottom up.
  "  for n in $(cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -S \"$builtin\" | awk -v r=\"$rule\" 'NR > 2 && $0 == r { print NR - 1 }' | sort -rn); do",
  "    cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -D \"$builtin\" \"$n\"",
  "  done",
  "}",
  "cn_fw_prune() {",
  "  local ns=$1 cmd=$2 save=$3 table=$4 marker=$5 keep=,$6, chain b",
  "  command -v \"$save\" >/dev/null 2>&1 || return 0",
  "  local stale=()",
  "  while read -r chain; do",
  "    case \"$keep\" in *,\"$chain\",*) ;; *) stale+=(\"$chain\") ;; esac",
  "  done < <(cn_in \"$ns\" \"$save\" -t \"$table\" 2>/dev/null | sed -n \"s/^:\\(${marker}[^ ]*\\) .*/\\1/p\")",
  "  [ ${#stale[@]} -gt 0 ] || return 0",
  "  for chain in \"${stale[@]}\"; do",
  "    for b in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do",
  "      while cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -C \"$b\" -j \"$chain\" 2>/dev/null; do cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -D \"$b\" -j \"$chain\"; done",
  "    done",
  "  done",
  "  for chain in \"${stale[@]}\"; do cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -F \"$chain\"; done",
  "  for chain in \"${stale[@]}\"; do cn_in \"$ns\" \"$cmd\" -w -t \"$table\" -X \"$chain\"; done",
  "}",
];
