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
