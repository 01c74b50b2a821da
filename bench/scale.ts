/**
 * `npm run bench -- scale`: synth of labs with 100, 1,000 and 10,000 guests (10 tenants, 50 hosts),
 * against, in the same run and for the same terraform_data resources:
 * (a) cdktf `DataResource`s, whose per-resource validation spawns `terraform version` (at 10,000
 *     guests that is about 8 minutes, so (a) is measured up to DATA_MAX guests, default 1,000);
 * (b) cdktf's floor: plain `TerraformResource`s of type terraform_data with the same attributes;
 * (c) the same Terraform JSON written with `JSON.stringify`.
 * Each figure is the median of RUNS child processes (default 3; 1 at 10,000), timed inside the
 * process. Then, as root, deploy / no-change plan / destroy seconds of emulated labs (scale-deploy.ts):
 * 2 and 16 hosts with DEPLOY_GUESTS_PER_HOST guests each (default 4), and 500 guests on 10 hosts.
 * BENCH_DEPLOY=0 skips them; BENCH_SYNTH=0 skips the synth part.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DeployFigures, measureDeploy } from "./scale-deploy";

const SIZES = [100, 1000, 10000];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DATA_MAX = Number(process.env.BENCH_DATA_MAX ?? 1000);
const APP = path.join(__dirname, "scale-app.ts");
const PER_HOST = Number(process.env.DEPLOY_GUESTS_PER_HOST ?? 4);

interface Sample {
  seconds: number;
  peak_rss_mb: number;
  bytes: number;
  resources: number;
}

function once(args: string[]): Sample {
  const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", APP, ...args], {
    encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, "..", "tsconfig.json") },
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(runs: number, args: string[]): Sample {
  const samples = Array.from({ length: runs }, () => once(args));
  return { ...samples[0], seconds: median(samples.map((s) => s.seconds)), peak_rss_mb: median(samples.map((s) => s.peak_rss_mb)) };
}

export function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-bench-scale-"));
  const rows: Array<{ guests: number; ours: Sample; data?: Sample; floor: Sample; json: Sample }> = [];
  try {
    for (const guests of process.env.BENCH_SYNTH === "0" ? [] : SIZES) {
      const runs = RUNS;
      const file = path.join(dir, `${guests}.json`);
      process.stderr.write(`bench scale: ${guests} guests: ours ...\n`);
      const ours = measure(runs, ["ours", String(guests), file]);
      process.stderr.write(`bench scale: ${guests} guests: baselines ...\n`);
      const data = guests <= DATA_MAX ? measure(1, ["data", file]) : undefined;
      rows.push({ guests, ours, data, floor: measure(runs, ["floor", file]), json: measure(runs, ["json", file]) });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const s = (x?: Sample) => (x ? x.seconds.toFixed(2) : "-").padStart(8);
  console.log("guests  resources  ours s  DataRes s  floor s   json s  ×floor  ×json  ours MiB  bytes/guest");
  for (const r of rows) {
    console.log([
      String(r.guests).padStart(6), String(r.ours.resources).padStart(10), s(r.ours), s(r.data).padStart(10), s(r.floor), s(r.json),
      (r.ours.seconds / r.floor.seconds).toFixed(2).padStart(6), (r.ours.seconds / r.json.seconds).toFixed(1).padStart(6),
      r.ours.peak_rss_mb.toFixed(0).padStart(9), (r.ours.bytes / r.guests).toFixed(0).padStart(12),
    ].join("  "));
  }
  const deploys: DeployFigures[] = [];
  if (process.env.BENCH_DEPLOY !== "0" && process.getuid?.() === 0) {
    deploys.push(measureDeploy(2, PER_HOST), measureDeploy(16, PER_HOST), measureDeploy(10, 50));
    console.log("\nhosts  guests  resources  deploy s  no-change plan s  destroy s");
    for (const d of deploys) {
      console.log([String(d.hosts).padStart(5), String(d.guests).padStart(6), String(d.resources).padStart(9),
        d.deploy.toFixed(1).padStart(8), d.noop_plan.toFixed(1).padStart(16), d.destroy.toFixed(1).padStart(9)].join("  "));
    }
  }
  const [two, sixteen, five] = deploys;
  const by = <T>(f: (r: (typeof rows)[number]) => T) => Object.fromEntries(rows.map((r) => [r.guests, f(r)]));
  console.log(JSON.stringify({
    bench: "scale",
    synth_seconds: by((r) => r.ours.seconds),
    ratio_vs_cdktf_floor: Math.max(...rows.map((r) => r.ours.seconds / r.floor.seconds)),
    ratio_vs_json: Math.max(...rows.map((r) => r.ours.seconds / r.json.seconds)),
    peak_rss_mb_10000: rows.find((r) => r.guests === 10000)?.ours.peak_rss_mb,
    deploy_seconds: two ? { 2: two.deploy, 16: sixteen.deploy } : null,
    deploy_ratio_16_vs_2: two ? sixteen.deploy / two.deploy : null,
    noop_plan_seconds_500: five?.noop_plan ?? null,
    deploys,
    baselines: by((r) => ({ data_resource: r.data?.seconds ?? null, cdktf_floor: r.floor.seconds, json: r.json.seconds })),
    output_bytes_per_guest: by((r) => Math.round(r.ours.bytes / r.guests)),
    resources: by((r) => r.ours.resources),
    runs: RUNS,
  }));
}
