/**
 * One synth of `npm run bench -- scale`, timed inside the process (construct + synth; Node's and
 * ts-node's start-up left out). Prints one JSON line: seconds, peak RSS in MiB, output bytes.
 * - `ours <guests> <out.json>`: a lab of that many guests over 10 tenants and 50 hosts; copies its
 *   Terraform JSON to out.json for the baselines.
 * - `data|floor|json <in.json>`: the same terraform_data resources (input, triggers_replace,
 *   provisioners, depends_on) rebuilt from in.json, read before the clock starts, as (a) cdktf
 *   `DataResource`s, (b) plain `TerraformResource`s (cdktf's floor), (c) `JSON.stringify` of the
 *   same document to a file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, DataResource, TerraformResource, TerraformStack } from "cdktf";
import { Backend, Lab, NetworkMode } from "../lib";

export const HOSTS = 50;
export const TENANTS = 10;

const [mode, arg, outFile] = process.argv.slice(2);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-bench-scale-"));
type Hook = { input: unknown; triggers_replace: Record<string, string>; provisioner: Array<Record<string, Record<string, unknown>>>; depends_on?: string[] };
const given: Record<string, Hook> = mode === "ours" ? {} : JSON.parse(fs.readFileSync(arg, "utf8")).resource.terraform_data;

class Floor extends TerraformResource {
  constructor(scope: TerraformStack, id: string, private readonly hook: Hook) {
    super(scope, id, { terraformResourceType: "terraform_data", provisioners: hook.provisioner.map(toProvisioner) as never });
    this.dependsOn = hook.depends_on;
  }
  protected synthesizeAttributes(): Record<string, unknown> {
    return { input: this.hook.input, triggers_replace: this.hook.triggers_replace };
  }
}

function toProvisioner(p: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const [type, body] = Object.entries(p)[0];
  return { type, ...body };
}

const started = process.hrtime.bigint();
let file = path.join(outdir, "stacks", "bench", "cdk.tf.json");
if (mode === "json") {
  file = path.join(outdir, "cdk.tf.json");
  fs.writeFileSync(file, JSON.stringify({ resource: { terraform_data: given } }, null, 2));
} else {
  const app = new App({ outdir, skipValidation: mode === "data" ? false : undefined });
  const stack = new TerraformStack(app, "bench");
  if (mode === "ours") {
    const lab = new Lab(stack, "bench", { backend: Backend.emulated(), prefix: "bsc" });
    const hosts = Array.from({ length: HOSTS }, (_, i) => lab.addHost(`h${i}`));
    const networks = Array.from({ length: TENANTS }, (_, t) =>
      lab.addTenant(`t${t}`).addNetwork("net", { cidr: `10.${t}.0.0/16`, mode: t % 2 === 0 ? NetworkMode.nat() : NetworkMode.isolated() }));
    const guests = Number(arg);
    for (let g = 0; g < guests; g++) {
      lab.addGuest(`g${g}`, { host: hosts[(g + Math.floor(g / HOSTS)) % HOSTS], nics: [{ segment: networks[g % TENANTS] }] });
    }
  } else {
    for (const [id, hook] of Object.entries(given)) {
      if (mode === "data") {
        const r = new DataResource(stack, id, { input: hook.input as never, triggersReplace: hook.triggers_replace, provisioners: hook.provisioner.map(toProvisioner) as never });
        r.dependsOn = hook.depends_on;
      } else {
        new Floor(stack, id, hook);
      }
    }
  }
  app.synth();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const bytes = fs.statSync(file).size;
const resources = Object.keys(JSON.parse(fs.readFileSync(file, "utf8")).resource?.terraform_data ?? {}).length;
if (mode === "ours" && outFile) fs.copyFileSync(file, outFile);
fs.rmSync(outdir, { recursive: true, force: true });
console.log(JSON.stringify({ mode, seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024, bytes, resources }));
