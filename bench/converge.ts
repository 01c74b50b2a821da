/**
 * `npm run bench -- converge`: what convergence costs on a host with many lab objects, against the
 * floor of the same work done by hand in the same run.
 * - keep all: the converge stage of a host whose N guest ports (veths) are all declared, against the
 *   reads it cannot avoid (one `ip -o link show`, iptables-save per table and family, `ipset list -n`);
 * - remove a tenth: the same stage when N/10 of those ports are no longer declared, against deleting
 *   exactly those N/10 links with one `ip -batch`.
 * Needs root (namespaces). Wall-clock medians of RUNS (default 3).
 */
import { spawnSync } from "child_process";
import { LabSpec, ResolvedLab } from "../lib/model";
import { Stage, renderLab } from "../lib/render";
import { runStage } from "../test/support/apply";
import { cleanupPrefix, uniquePrefix } from "../test/support/netns";
import { median, resolved, seconds } from "./support/measure";

const SIZES = [1000, 10000];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function spec(name: string, guests: number): LabSpec {
  const at = (i: number) => `10.40.${Math.floor(i / 250)}.${(i % 250) + 2}`;
  return {
    name, path: "lab", backend: { kind: "emulated", fabricCidr: "198.18.0.0/24" },
    hosts: [{ name: "h1", path: "lab/h1" }],
    segments: [{ name: "app", path: "lab/app", cidr: "10.40.0.0/16" }],
    guests: Array.from({ length: guests }, (_, i) => ({
      name: `g${i}`, path: `lab/g${i}`, host: "h1", compute: { kind: "container" as const, container: { image: "x" } },
      nics: [{ segment: "app", address: at(i) }],
    })),
  };
}


function must(r: { status: number; output?: string; stderr?: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed: ${r.output ?? r.stderr}`);
}

function sh(ns: string, script: string, input?: string): void {
  const r = spawnSync("ip", ["netns", "exec", ns, "bash", "-c", script], { encoding: "utf8", input });
  must({ status: r.status ?? 1, stderr: r.stderr }, script.slice(0, 60));
}

/** Creates the guests' host ports (veths whose peers stay in the host) with one ip -batch. */
function makePorts(ns: string, lab: ResolvedLab, from = 0): void {
  const lines = lab.guests.slice(from).map((g, i) => `link add ${g.nics[0].hostDev} type veth peer name peer${from + i}`);
  sh(ns, "ip -batch -", lines.join("\n") + "\n");
}

export function main(): void {
  const rows: Array<Record<string, number>> = [];
  for (const n of SIZES) {
    const prefix = uniquePrefix("c");
    try {
      const full = resolved(spec(prefix, n));
      const fewer = resolved(spec(prefix, n - n / 10));
      const stages = renderLab(full);
      const byId = (xs: Stage[], id: string) => xs.find((s) => s.id === id)!;
      for (const id of ["fabric", "host/h1", "owner/h1", "network/h1"]) must(runStage(full, byId(stages, id), "apply"), id);
      const ns = full.hosts[0].netns!;
      makePorts(ns, full);
      const converge = byId(stages, "converge/h1");
      const convergeFewer = byId(renderLab(fewer), "converge/h1");
      const keepAll: number[] = [];
      const floor: number[] = [];
      const removeTenth: number[] = [];
      const batchDelete: number[] = [];
      const removed = full.guests.slice(n - n / 10).map((g) => g.nics[0].hostDev);
      for (let r = 0; r < RUNS; r++) {
        keepAll.push(seconds(() => must(runStage(full, converge, "apply"), "converge")));
        floor.push(seconds(() => sh(ns, "ip -o link show >/dev/null; for f in iptables-save ip6tables-save; do for t in raw mangle nat filter; do $f -t $t >/dev/null; done; done; ipset list -n >/dev/null")));
        removeTenth.push(seconds(() => must(runStage(fewer, convergeFewer, "apply"), "converge fewer")));
        makePorts(ns, full, n - n / 10);
        batchDelete.push(seconds(() => sh(ns, "ip -batch -", removed.map((d) => `link del ${d}`).join("\n") + "\n")));
        makePorts(ns, full, n - n / 10);
      }
      rows.push({ links: n, keep_all_s: median(keepAll), reads_floor_s: median(floor), remove_tenth_s: median(removeTenth), batch_delete_tenth_s: median(batchDelete) });
    } finally {
      cleanupPrefix(prefix);
    }
  }
  console.log("converge: a host's converge stage with N lab links (medians of %d runs)", RUNS);
  console.log("links   keep all   reads floor   ratio   remove N/10   ip -batch del   ratio");
  for (const r of rows) {
    console.log(`${String(r.links).padStart(5)}   ${r.keep_all_s.toFixed(3).padStart(7)} s   ${r.reads_floor_s.toFixed(3).padStart(8)} s   ${(r.keep_all_s / r.reads_floor_s).toFixed(2).padStart(5)}   ${r.remove_tenth_s.toFixed(3).padStart(9)} s   ${r.batch_delete_tenth_s.toFixed(3).padStart(11)} s   ${(r.remove_tenth_s / r.batch_delete_tenth_s).toFixed(2).padStart(5)}`);
  }
  const big = rows[rows.length - 1];
  console.log(JSON.stringify({
    bench: "converge", runs: RUNS, rows,
    keep_all_ratio_vs_reads_10k: big.keep_all_s / big.reads_floor_s,
    remove_tenth_ratio_vs_batch_delete_10k: big.remove_tenth_s / big.batch_delete_tenth_s,
  }));
}
