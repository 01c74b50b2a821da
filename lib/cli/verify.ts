import { spawnSync } from "child_process";
import { makeUniqueId } from "cdktf/lib/private/unique";
import { TOOLS } from "../render/firewall";
import { PLATFORM_CLI } from "./platform";
import { DeclaredState, Inventory } from "../render/inventory";

/** One way the live state differs from what the lab rendered. */
export interface Drift {
  readonly kind: "missing" | "extra" | "changed";
  /** What, in words: `namespace demo-web`, `rule in CN-demo-FWD on h1 (IPv4 filter): -A ...`. */
  readonly what: string;
  /** The stage that puts it in place (re-applying it repairs the difference), if any. */
  readonly stage?: string;
}

type Run = (cmd: string, args: readonly string[], input?: string) => { status: number; stdout: string };

const run: Run = (cmd, args, input) => {
  const r = spawnSync(cmd, args as string[], { encoding: "utf8", input });
  return { status: r.status ?? 1, stdout: r.stdout ?? "" };
};


/**
 * Compares an emulated lab's live state with what it rendered: namespaces, the lab's links in each,
 * its iptables chains rule by rule (both families), the hooks into them, ipsets, nft tables and
 * routes. Rules are compared in the kernel's own form: the rendered payload is loaded into a scratch
 * namespace and read back, so `-p tcp --dport 80` and `-p tcp -m tcp --dport 80` are the same rule.
 */
export function verifyLab(inv: Inventory, exec: Run = run): Drift[] {
  const d = inv.declared;
  if (!d) return [{ kind: "changed", what: "the inventory predates `cloudnet verify`: redeploy the lab once" }];
  const drift: Drift[] = [];
  const nodeOf = nodeNames(inv);
  const where = (ns: string) => nodeOf.get(ns) ?? ns;
  const live = new Set(exec("ip", ["netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${inv.prefix}-`)));
  for (const n of d.namespaces) if (!live.has(n.name)) drift.push({ kind: "missing", what: `namespace ${n.name}`, stage: n.stage });
  const declaredNs = new Set(d.namespaces.map((n) => n.name));
  for (const n of live) if (!declaredNs.has(n)) drift.push({ kind: "extra", what: `namespace ${n}` });
  const present = (ns: string) => live.has(ns);

  // Links with the lab's prefix, per namespace the lab declares links in.
  const linkRe = new RegExp(`^${inv.prefix}[a-z]-`);
  for (const ns of new Set(d.links.map((l) => l.netns))) {
    if (!present(ns)) continue;
    const have = new Set(exec("ip", ["-n", ns, "-o", "link", "show"]).stdout.split("\n").map((l) => l.split(": ")[1]?.split("@")[0]).filter((x): x is string => !!x && linkRe.test(x)));
    const want = d.links.filter((l) => l.netns === ns);
    for (const l of want) if (!have.has(l.name)) drift.push({ kind: "missing", what: `link ${l.name} on ${where(ns)}`, stage: l.stage });
    const names = new Set(want.map((l) => l.name));
    for (const l of have) if (!names.has(l)) drift.push({ kind: "extra", what: `link ${l} on ${where(ns)}` });
  }

  drift.push(...rulesDrift(inv, d, exec, present, where));

  for (const s of d.ipsets) {
    if (present(s.netns) && exec("ip", ["netns", "exec", s.netns, "ipset", "list", "-n", s.name]).status !== 0) {
      drift.push({ kind: "missing", what: `ipset ${s.name} on ${where(s.netns)}`, stage: s.stage });
    }
  }
  for (const t of d.nftTables) {
    if (present(t.netns) && exec("ip", ["netns", "exec", t.netns, "nft", "list", "table", "bridge", t.name]).status !== 0) {
      drift.push({ kind: "missing", what: `nft table bridge ${t.name} on ${where(t.netns)}`, stage: t.stage });
    }
  }
  for (const r of d.routes) {
    if (present(r.netns) && !exec("ip", ["-n", r.netns, "route", "show", "exact", r.to]).stdout.trim()) {
      drift.push({ kind: "missing", what: `route to ${r.to} on ${where(r.netns)}`, stage: r.stage });
    }
  }
  return drift;
}

/** Chains of the lab per namespace and family: live against the rendered payloads read back in a scratch namespace. */
function rulesDrift(inv: Inventory, d: DeclaredState, exec: Run, present: (ns: string) => boolean, where: (ns: string) => string): Drift[] {
  const drift: Drift[] = [];
  const marker = `CN-${inv.prefix}-`;
  const scratch = `cnverify-${process.pid}`;
  const groups = new Map<string, Array<DeclaredState["rules"][number]>>();
  // Hosts and routers with no rules declared must have none of the lab's chains either.
  for (const n of inv.nodes.filter((x) => x.kind === "host" || x.kind === "router")) for (const f of [4, 6]) groups.set(`${n.netns} ${f}`, []);
  for (const r of d.rules) groups.set(`${r.netns} ${r.family}`, [...(groups.get(`${r.netns} ${r.family}`) ?? []), r]);
  for (const [key, rules] of groups) {
    const [ns, fam] = key.split(" ");
    const family = Number(fam) as 4 | 6;
    if (!present(ns)) continue;
    const t = TOOLS[family];
    const label = (table: string) => `${where(ns)} (IPv${family} ${table})`;
    exec("ip", ["netns", "add", scratch]);
    try {
      for (const s of d.ipsets.filter((x) => x.netns === ns)) {
        exec("ip", ["netns", "exec", scratch, "ipset", "create", s.name, "hash:ip", "family", s.family === 4 ? "inet" : "inet6"]);
      }
      for (const r of rules) exec("ip", ["netns", "exec", scratch, t.restore, "--noflush"], r.payload);
      const want = labLines(exec("ip", ["netns", "exec", scratch, t.save]).stdout, marker);
      const have = labLines(exec("ip", ["netns", "exec", ns, t.save]).stdout, marker);
      const stageOf = (line: string) => rules.find((r) => line.split(" ").some((w) => r.payload.includes(`:${w} `)))?.stage ?? rules[0]?.stage;
      for (const [table, lines] of want) {
        const got = have.get(table) ?? new Set<string>();
        for (const l of lines) if (!got.has(l)) drift.push({ kind: "missing", what: `${describe(l)} on ${label(table)}`, stage: stageOf(l) });
        for (const l of got) if (!lines.has(l)) drift.push({ kind: "extra", what: `${describe(l)} on ${label(table)}`, stage: stageOf(l) });
      }
      for (const [table, got] of have) if (!want.has(table)) for (const l of got) drift.push({ kind: "extra", what: `${describe(l)} on ${label(table)}`, stage: rules[0]?.stage });
      for (const r of rules) {
        for (const h of r.hooks) {
          if (exec("ip", ["netns", "exec", ns, t.cmd, "-w", "-t", h.table, "-C", h.builtin, "-j", h.chain]).status !== 0) {
            drift.push({ kind: "missing", what: `hook ${h.builtin} -> ${h.chain} on ${label(h.table)}`, stage: r.stage });
          } else if (!hookOnTop(exec("ip", ["netns", "exec", ns, t.cmd, "-w", "-t", h.table, "-S", h.builtin]).stdout, h.builtin, h.chain)) {
            // Another tool inserted above the lab: its rules now decide first.
            drift.push({ kind: "changed", what: `hook ${h.builtin} -> ${h.chain} on ${label(h.table)} is no longer the first rule`, stage: r.stage });
          }
        }
      }
    } finally {
      exec("ip", ["netns", "del", scratch]);
    }
  }
  return drift;
}

/** Whether the jump to `chain` is in `builtin` (an `iptables -S` listing) with only labs' hooks above it, as cn_hook_first leaves it. */
export function hookOnTop(listing: string, builtin: string, chain: string): boolean {
  const rules = listing.split("\n").filter((l) => l.startsWith(`-A ${builtin} `));
  const at = rules.indexOf(`-A ${builtin} -j ${chain}`);
  return at >= 0 && rules.slice(0, at).every((r) => r.startsWith(`-A ${builtin} -j CN-`));
}

/** The lab's chain declarations and rules in an iptables-save dump, per table, counters dropped. */
function labLines(dump: string, marker: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let table = "";
  for (const line of dump.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    const keep = line.startsWith(`:${marker}`) || line.startsWith(`-A ${marker}`);
    if (!keep) continue;
    if (!out.has(table)) out.set(table, new Set());
    out.get(table)!.add(line.replace(/ \[\d+:\d+\]$/, "").replace(/ - $/, ""));
  }
  return out;
}

function describe(line: string): string {
  if (line.startsWith(":")) return `chain ${line.slice(1).split(" ")[0]}`;
  return `rule in ${line.split(" ")[1]}: ${line}`;
}

function nodeNames(inv: Inventory): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of inv.nodes) if (!m.has(n.netns)) m.set(n.netns, n.kind === "host" ? `host ${n.name}` : `${n.kind} ${n.name}`);
  return m;
}

/**
 * The Terraform address of a stage's hook, as cdktf names it: the lab's path below the stack, then
 * `Stages/<stage id with '_' for '/'>/hook` (see Lab._build).
 */
export function stageAddress(inv: Inventory, stage: string): string {
  const components = [...inv.path.split("/").slice(1), "Stages", stage.replace(/\//g, "_"), "hook"];
  return `terraform_data.${makeUniqueId(components)}`;
}

/** The lab's owners: their destroy removes everything, so they are never to be replaced by hand. */
const isOwner = (stage: string) => stage === "fabric" || stage.startsWith("owner/");

/**
 * How to repair: re-apply the stages that own what differs, with every stage that builds on them
 * (Terraform's -replace re-applies only what it names), and the converge stages for extra objects.
 * What an owner holds (the emulated fabric) can only be rebuilt with the whole lab.
 */
export function repairAdvice(inv: Inventory, drift: readonly Drift[]): string[] {
  const stack = inv.path.split("/")[0];
  const { replace: all, rebuild } = repairPlan(inv, drift);
  return [
    ...(all.length && !rebuild ? [
      "repair: re-apply the stages that own these objects, and those that build on them:",
      `  (cd cdktf.out/stacks/${stack} && terraform apply ${all.map((s) => `-replace=${stageAddress(inv, s)}`).join(" ")})`,
    ] : []),
    `${all.length && !rebuild ? "or " : "repair: "}rebuild the whole lab: ${PLATFORM_CLI} destroy && ${PLATFORM_CLI} deploy`,
  ];
}

/** The stages to re-apply, in order, or `rebuild` when only rebuilding the lab repairs it. */
export function repairPlan(inv: Inventory, drift: readonly Drift[]): { replace: string[]; rebuild: boolean } {
  const declared = inv.declared;
  const named = [...new Set(drift.map((x) => x.stage).filter((s): s is string => !!s))];
  const rebuild = named.some(isOwner);
  // Everything that comes after a stage to replace, transitively (through the owners, which stay).
  const reached = new Set(named.filter((s) => !isOwner(s)));
  for (let grew = true; grew;) {
    grew = false;
    for (const [stage, after] of Object.entries(declared?.after ?? {})) {
      if (!reached.has(stage) && after.some((a) => reached.has(a))) { reached.add(stage); grew = true; }
    }
  }
  const replace = new Set([...reached].filter((s) => !isOwner(s)));
  // The converge stages come last (they are rendered after the inventory, so it does not list them):
  // they remove what is extra and re-check the rest.
  const converge = [...inv.nodes.filter((n) => n.kind === "host").map((n) => `converge/${n.name}`), "converge"];
  const order = new Map((declared?.stages ?? []).map((s, i) => [s, i]));
  const stages = [...replace].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const any = stages.length > 0 || drift.some((x) => !x.stage || x.kind === "extra");
  return { replace: any ? [...stages, ...converge] : [], rebuild };
}
