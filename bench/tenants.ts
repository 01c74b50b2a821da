/**
 * `npm run bench -- tenants`: synth time and peak memory of labs with 10, 100 and 1,000 guests
 * (10 tenants, 10 hosts), against plain cdktf synthesizing the same number of terraform_data
 * resources, in the same run. Each figure is the median of RUNS child processes; time is measured
 * inside the process (construct + synth), so Node's and ts-node's start-up is left out of both.
 */
import { execFileSync } from "child_process";
import * as path from "path";

const SIZES = [10, 100, 1000];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const APP = path.join(__dirname, "tenants-app.ts");

interface Sample {
  resources: number;
  seconds: number;
  peak_rss_mb: number;
}

function once(mode: "ours" | "plain", count: number): Sample {
  const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", APP, mode, String(count)], {
    encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, "..", "tsconfig.json") },
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(mode: "ours" | "plain", count: number): Sample {
  const samples = Array.from({ length: RUNS }, () => once(mode, count));
  return {
    resources: samples[0].resources,
    seconds: median(samples.map((s) => s.seconds)),
    peak_rss_mb: median(samples.map((s) => s.peak_rss_mb)),
  };
}

export function main(): void {
  const rows: Array<{ guests: number; ours: Sample; plain: Sample; ratio: number }> = [];
  for (const guests of SIZES) {
    process.stderr.write(`bench tenants: ${guests} guests ...\n`);
    const ours = measure("ours", guests);
    const plain = measure("plain", ours.resources);
    rows.push({ guests, ours, plain, ratio: ours.seconds / plain.seconds });
  }
  console.log("guests  resources  ours s   plain s  ratio  ours MiB  plain MiB");
  for (const r of rows) {
    console.log([
      String(r.guests).padStart(6), String(r.ours.resources).padStart(10), r.ours.seconds.toFixed(3).padStart(7),
      r.plain.seconds.toFixed(3).padStart(8), r.ratio.toFixed(2).padStart(6), r.ours.peak_rss_mb.toFixed(0).padStart(9),
      r.plain.peak_rss_mb.toFixed(0).padStart(10),
    ].join("  "));
  }
  // Growth: seconds per guest from 100 to 1,000 guests against 10 to 100 (1.0 = linear).
  const per = (i: number, j: number) => (rows[j].ours.seconds - rows[i].ours.seconds) / (rows[j].guests - rows[i].guests);
  console.log(JSON.stringify({
    bench: "tenants",
    synth_ratio_vs_plain_cdktf: Math.max(...rows.map((r) => r.ratio)),
    synth_seconds: Object.fromEntries(rows.map((r) => [r.guests, { ours: r.ours.seconds, plain: r.plain.seconds }])),
    peak_rss_mb: Object.fromEntries(rows.map((r) => [r.guests, { ours: r.ours.peak_rss_mb, plain: r.plain.peak_rss_mb }])),
    resources: Object.fromEntries(rows.map((r) => [r.guests, r.ours.resources])),
    marginal_growth_1000_vs_100: per(1, 2) / per(0, 1),
    runs: RUNS,
  }));
}
