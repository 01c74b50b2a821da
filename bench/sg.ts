/**
 * `npm run bench -- sg`: security groups at scale, against the naive ways, in one run.
 * - rules per host when a group of 10 / 100 / 1,000 / 10,000 members is referenced by another
 *   group: ours (one rule per group rule, members in an ipset) vs expanding one rule per member;
 * - time to apply a host's rules with 10,000 member addresses: our stage (ipset restore + swap,
 *   one iptables-restore) vs one `iptables -A` per rule, as a hand-written hook would;
 * - new TCP connections per second through those rules vs no firewall at all, with a generator
 *   of CLIENTS parallel processes (default 16) that saturates the machine: a scan first shows that
 *   more clients do not raise the no-firewall rate.
 * Needs root (namespaces). Apply timings are wall-clock medians of RUNS (default 3); connection
 * rates alternate RATE_RUNS pairs (default 10, in ABBA order) of 3 s each and report the median pair ratio.
 * Its namespaces share one prefix, `bsg`, so that a run removes what a killed one left behind.
 */
import { spawnSync } from "child_process";
import { LabSpec, ResolvedLab, formatIssues, resolveLab } from "../lib/model";
import { Stage, renderLab } from "../lib/render";
import { runStage } from "../test/support/apply";
import { cleanupPrefix } from "../test/support/netns";
import { rate, startRateServer } from "./support/tcp-rate";

const SIZES = [10, 100, 1000, 10000];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RATE_RUNS = Number(process.env.BENCH_RATE_RUNS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SCAN = [1, 2, 4, 8, 16, 32];
const PREFIX = "bsg";

/**
 * db1 and web1 on h1's segment; the other web members on a segment of h2, which this bench never
 * builds (only their addresses matter, in the set). h1's segment spans h1 alone, so VXLAN stays out
 * of the measured path.
 */
function spec(name: string, members: number): LabSpec {
  const guest = (g: string, host: string, segment: string, address: string, groups: string[]) => ({
    name: g, path: `lab/${g}`, host, compute: { kind: "container" as const, container: { image: "x" } },
    nics: [{ segment, address }], securityGroups: groups,
  });
  const at = (i: number) => `10.31.${Math.floor(i / 250)}.${(i % 250) + 2}`;
  return {
    name, path: "lab", backend: { kind: "emulated", fabricCidr: "198.18.0.0/24" },
    hosts: [{ name: "h1", path: "lab/h1" }, { name: "h2", path: "lab/h2" }],
    segments: [{ name: "app", path: "lab/app", cidr: "10.30.0.0/24" }, { name: "far", path: "lab/far", cidr: "10.31.0.0/16" }],
    guests: [
      guest("db1", "h1", "app", "10.30.0.21", ["db"]),
      guest("web1", "h1", "app", "10.30.0.11", ["web"]),
      ...Array.from({ length: members - 1 }, (_, i) => guest(`w${i + 1}`, "h2", "far", at(i), ["web"])),
    ],
    securityGroups: [
      { name: "web", path: "lab/web", ingress: [], egress: [] },
      {
        name: "db", path: "lab/db", egress: [],
        ingress: [{ path: "lab/db", peer: { kind: "group", group: "web", lab: "lab" }, port: { protocol: "tcp", from: 3306, to: 3306 } }],
      },
    ],
  };
}

function resolved(name: string, members: number): ResolvedLab {
  const r = resolveLab(spec(name, members));
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

/** iptables rules in h1's firewall stage: ours, and with each set rule expanded to one rule per member. */
function rulesPerHost(members: number): { ours: number; naive: number } {
  const lab = resolved("rules", members);
  const script = renderLab(lab).find((s) => s.id === "firewall/h1")!.apply;
  const rules = script.split("\n").filter((l) => l.startsWith("-A "));
  const setRules = rules.filter((l) => l.includes("--match-set cn-rules-web-4 ")).length;
  return { ours: rules.length, naive: rules.length - setRules + setRules * lab.securityGroups.find((g) => g.name === "web")!.members[4].length };
}

/** The per-rule way: the same chains, one `iptables -A` per rule, set rules expanded per member. */
function naiveScript(lab: ResolvedLab): string {
  const members = lab.securityGroups.find((g) => g.name === "web")!.members[4].map((m) => m.toString());
  const lines = ["set -e", "iptables -N BENCH-NAIVE"];
  for (const m of members) lines.push(`iptables -A BENCH-NAIVE -s ${m}/32 -p tcp --dport 3306 -j ACCEPT`);
  lines.push("iptables -A BENCH-NAIVE -j DROP", "iptables -I FORWARD 1 -j BENCH-NAIVE");
  return lines.join("\n");
}

/**
 * Leaves h1 with no firewall at all: every table (iptables-nft's too) and every set gone, so that
 * no hook (not even conntrack's) is left on the path. The firewall stage's own destroy keeps the
 * rules by design (the lab's owner stage removes them), so it cannot be the baseline; h1 is the
 * bench's own namespace and holds nothing else.
 */
function noFirewall(h1: string): void {
  const r = spawnSync("ip", ["netns", "exec", h1, "bash", "-c", "set -e; nft flush ruleset; ipset destroy"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`removing h1's firewall failed: ${r.stderr}`);
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function must(r: { status: number; output: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed:\n${r.output}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench sg needs root (network namespaces): sudo npm run bench -- sg");
  const rules = Object.fromEntries(SIZES.map((n) => [n, rulesPerHost(n)]));
  console.log("members   rules/host ours   rules/host naive");
  for (const n of SIZES) console.log(`${String(n).padStart(7)}   ${String(rules[n].ours).padStart(15)}   ${String(rules[n].naive).padStart(16)}`);

  const prefix = PREFIX;
  cleanupPrefix(prefix);
  const lab = resolved(prefix, 10000);
  const stages = renderLab(lab);
  const byId = (id: string) => stages.find((s) => s.id === id)!;
  const h1 = `${prefix}-h1`;
  try {
    for (const id of ["fabric", "host/h1", "network/h1", "guest/db1", "guest/web1"]) must(runStage(lab, byId(id), "apply"), id);
    // The host's whole firewall: host guard, port guards, security groups and their sets.
    const rulesStage: Stage = byId("firewall/h1");
    const ours: number[] = [];
    const naive: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`bench sg: apply run ${i + 1}/${RUNS} ...\n`);
      noFirewall(h1);
      ours.push(timed(() => must(runStage(lab, rulesStage, "apply"), "rules")));
      noFirewall(h1);
      const script = naiveScript(lab);
      naive.push(timed(() => {
        const r = spawnSync("ip", ["netns", "exec", h1, "bash", "-s"], { encoding: "utf8", input: script, maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`naive apply failed: ${r.stderr}`);
      }));
    }
    const applyOurs = median(ours);
    const applyNaive = median(naive);
    console.log(`apply 10,000 members: ours ${applyOurs.toFixed(3)} s, per-rule iptables ${applyNaive.toFixed(3)} s, ${(applyNaive / applyOurs).toFixed(1)}x`);

    // Connection rate web1 -> db1:3306, with the rules (web1 is one of 10,000 members) and without,
    // alternating, and the ratio taken pair by pair so that drift of the machine cancels out.
    const server = await startRateServer(`${prefix}-db1`, 3306);
    const measure = (clients = CLIENTS) => rate(`${prefix}-web1`, "10.30.0.21", 3306, 3, server, clients);
    // The generator is not the limit: without a firewall, more clients add nothing once the CPUs are busy.
    noFirewall(h1);
    const scan: Record<number, { rate: number; cpu_busy: number }> = {};
    for (const clients of SCAN) {
      process.stderr.write(`bench sg: no-firewall rate with ${clients} client(s) ...\n`);
      const r = await measure(clients);
      scan[clients] = { rate: r.rate, cpu_busy: r.cpu_busy };
    }
    console.log("clients   conn/s no firewall   CPU busy");
    for (const c of SCAN) console.log(`${String(c).padStart(7)}   ${scan[c].rate.toFixed(0).padStart(18)}   ${(scan[c].cpu_busy * 100).toFixed(0).padStart(7)} %`);
    const withFw: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < RATE_RUNS; i++) {
      process.stderr.write(`bench sg: connection rate pair ${i + 1}/${RATE_RUNS} ...\n`);
      // ABBA: every other pair measures the bare path first, so that an effect of going second cancels out.
      const withRules = async () => {
        must(runStage(lab, rulesStage, "apply"), "rules");
        withFw.push((await measure()).rate);
        noFirewall(h1);
      };
      const bare = async () => without.push((await measure()).rate);
      if (i % 2 === 0) { await withRules(); await bare(); } else { await bare(); await withRules(); }
    }
    server.stop();
    const rateWith = median(withFw);
    const rateWithout = median(without);
    const rateRatio = median(withFw.map((w, i) => w / without[i]));
    console.log(`new TCP connections/s (${CLIENTS} clients): with 10,000-member rules ${rateWith.toFixed(0)}, no firewall ${rateWithout.toFixed(0)}, median pair ratio ${rateRatio.toFixed(2)} (min ${Math.min(...withFw.map((w, i) => w / without[i])).toFixed(2)})`);
    console.log(JSON.stringify({
      bench: "sg",
      rules_per_host: Object.fromEntries(SIZES.map((n) => [n, rules[n]])),
      apply_seconds_10k: applyOurs,
      apply_seconds_10k_per_rule: applyNaive,
      apply_speedup_vs_per_rule: applyNaive / applyOurs,
      conn_per_second: { with_rules: rateWith, no_firewall: rateWithout },
      conn_rate_ratio_vs_no_firewall: rateRatio,
      clients: CLIENTS,
      no_firewall_rate_by_clients: Object.fromEntries(SCAN.map((c) => [c, scan[c].rate])),
      runs: RUNS,
      rate_pairs: RATE_RUNS,
    }));
  } finally {
    cleanupPrefix(prefix);
  }
}
