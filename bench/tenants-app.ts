/**
 * One synth, measured from inside the process: `ours <guests>` builds a lab of that many guests over
 * 10 tenants and 10 hosts; `plain <resources>` builds that many bare terraform_data resources with
 * plain cdktf. Prints one JSON line: resources, seconds (construct + synth), peak RSS in MiB.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, DataResource, TerraformStack } from "cdktf";
import { Backend, Lab, NetworkMode } from "../lib";

const [mode, countText] = process.argv.slice(2);
const count = Number(countText);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-bench-"));
const started = process.hrtime.bigint();
const app = new App({ outdir });
const stack = new TerraformStack(app, "bench");

if (mode === "ours") {
  const lab = new Lab(stack, "bench", { backend: Backend.emulated() });
  const hosts = Array.from({ length: 10 }, (_, i) => lab.addHost(`h${i}`));
  const networks = Array.from({ length: 10 }, (_, t) =>
    lab.addTenant(`t${t}`).addNetwork("net", { cidr: `10.${t}.0.0/16`, mode: t % 2 === 0 ? NetworkMode.nat() : NetworkMode.isolated() }));
  for (let g = 0; g < count; g++) {
    lab.addGuest(`g${g}`, { host: hosts[(g + Math.floor(g / 10)) % 10], nics: [{ segment: networks[g % 10] }] });
  }
} else {
  for (let r = 0; r < count; r++) {
    new DataResource(stack, `r${r}`, {
      input: { index: r },
      provisioners: [{ type: "local-exec", command: `echo ${r}` }],
    });
  }
}
app.synth();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const tf = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "bench", "cdk.tf.json"), "utf8"));
const resources = Object.values<Record<string, unknown>>(tf.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
fs.rmSync(outdir, { recursive: true, force: true });
console.log(JSON.stringify({ mode, count, resources, seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
