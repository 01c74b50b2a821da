import { Stage } from "../../../lib/render";
import { Tables, parseRestore } from "./iptables";

/**
 * A host's `firewall/<host>` stage read back as the host receives it: its iptables-restore payloads
 * (the host's own, not a router namespace's) and its `cn_hook_first` lines, run against built-in
 * chains that may already hold other tools' jumps. The built-in chains the hooks fill are added to
 * the tables as chains the tracer can enter (`filter FORWARD`, `filter INPUT`, `raw PREROUTING`, ...);
 * falling off their end is their policy (END).
 */
export interface HostFirewall {
  readonly tables: Record<4 | 6, Tables>;
  /** The hook lines in script order, per family: "table BUILTIN CHAIN". */
  readonly hookLines: Record<4 | 6, string[]>;
  /** Built-in chains after the hook lines ran (on top of `foreign`), e.g. "filter FORWARD" -> jump targets, top first. */
  readonly builtins: Record<4 | 6, Map<string, string[]>>;
}

export const HEREDOC = /^(.*) <<'CLOUDNET_EOF'\n([\s\S]*?)\nCLOUDNET_EOF$/gm;
const HOOK = /^cn_hook_first (\S+) (iptables|ip6tables) (raw|mangle|nat|filter) (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) (\S+)$/;

/**
 * What `cn_hook_first` leaves in a built-in chain (jump targets, top first): the jump to `chain`
 * once, with nothing above it but other labs' hooks (`CN-...`); otherwise a new jump on top and the
 * other copies removed.
 */
export function hookFirst(builtin: readonly string[], chain: string): string[] {
  const at = builtin.indexOf(chain);
  const once = at >= 0 && builtin.indexOf(chain, at + 1) < 0;
  if (once && builtin.slice(0, at).every((c) => c.startsWith("CN-"))) return [...builtin];
  return [chain, ...builtin.filter((c) => c !== chain)];
}

/** Runs hook lines ("table BUILTIN CHAIN") against built-in chains that already hold `foreign` jumps. */
export function applyHooks(lines: readonly string[], foreign: Record<string, readonly string[]> = {}): Map<string, string[]> {
  const chains = new Map(Object.entries(foreign).map(([k, v]) => [k, [...v]]));
  for (const line of lines) {
    const [table, builtin, chain] = line.split(" ");
    const key = `${table} ${builtin}`;
    chains.set(key, hookFirst(chains.get(key) ?? [], chain));
  }
  return chains;
}

/** The hook lines of a script that run in `netns` ("-": the host itself), per family; strict about their shape. */
export function hookLinesOf(script: string, netns = "-"): Record<4 | 6, string[]> {
  const out: Record<4 | 6, string[]> = { 4: [], 6: [] };
  for (const line of script.split("\n")) {
    if (!line.startsWith("cn_hook_first ")) continue;
    const m = HOOK.exec(line);
    if (!m) throw new Error(`unexpected hook line: ${line}`);
    if (m[1] === netns) out[m[2] === "iptables" ? 4 : 6].push(`${m[3]} ${m[4]} ${m[5]}`);
  }
  return out;
}

/** The firewall stage of `host` among `stages`, read back (see HostFirewall). */
export function hostFirewall(stages: readonly Stage[], host: string, foreign: Record<string, readonly string[]> = {}): HostFirewall {
  const stage = stages.find((s) => s.id === `firewall/${host}`);
  if (!stage) throw new Error(`no firewall/${host} stage`);
  const docs = [...stage.apply.matchAll(HEREDOC)].map((m) => ({ cmd: m[1], body: m[2] }));
  const payload = (tool: string): Tables => {
    const found = docs.filter((d) => d.cmd === `cn_in - ${tool} -w --noflush`);
    if (found.length > 1) throw new Error(`expected at most one ${tool} payload on ${host}, found ${found.length}`);
    return found.length === 1 ? parseRestore(found[0].body + "\n") : new Map();
  };
  const tables = { 4: payload("iptables-restore"), 6: payload("ip6tables-restore") };
  const hookLines = hookLinesOf(stage.apply);
  const builtins = { 4: applyHooks(hookLines[4], foreign), 6: applyHooks(hookLines[6], foreign) };
  for (const f of [4, 6] as const) {
    for (const [key, jumps] of builtins[f]) {
      const [table, builtin] = key.split(" ");
      const t = tables[f].get(table);
      // A foreign jump the lab's payload does not declare is another tool's chain: here it accepts nothing and drops nothing.
      if (t) t.set(builtin, jumps.filter((c) => t.has(c)).map((c) => ["-j", c]));
    }
  }
  return { tables, hookLines, builtins };
}
