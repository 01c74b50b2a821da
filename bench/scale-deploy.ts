/**
 * Deploy, no-change plan and destroy of emulated labs, for `npm run bench -- scale`: 2 and 16 hosts
 * with the same guests per host, and a 500-guest lab. Terraform runs directly on the synthesized
 * stack (`terraform init`, `apply`, `plan -detailed-exitcode`, `destroy`), so cdktf's own start-up
 * is not in the figures. The whole lab runs on this machine: 16 emulated hosts do 8 times the
 * kernel work of 2 on the same cores, where real hosts would each do their own share.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEPLOY_PREFIX, synthDeployLab } from "./scale-deploy-app";

export interface DeployFigures {
  readonly hosts: number;
  readonly guests: number;
  readonly resources: number;
  readonly deploy: number;
  readonly noop_plan: number;
  readonly destroy: number;
}

function terraform(dir: string, args: string[], tfrc: string): { seconds: number; status: number; output: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync("terraform", args, {
    cwd: dir, encoding: "utf8", maxBuffer: 1 << 28,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: tfrc, TF_IN_AUTOMATION: "1" },
  });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** What an interrupted earlier run left: the prefix's namespaces and the lab's state files. */
function cleanLeftovers(): void {
  const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  for (const ns of list.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${DEPLOY_PREFIX}-`))) {
    spawnSync("ip", ["netns", "del", ns]);
  }
  fs.rmSync("/run/cloudnet/labs/bench-deploy.json", { force: true });
}

export function measureDeploy(hosts: number, guestsPerHost: number): DeployFigures {
  cleanLeftovers();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-bench-deploy-"));
  const tfrc = path.join(dir, "empty.tfrc");
  fs.writeFileSync(tfrc, "");
  let applied = false;
  let stack = dir;
  try {
    synthDeployLab(dir, hosts, guestsPerHost);
    stack = path.join(dir, "stacks", "bench");
    const resources = Object.keys(JSON.parse(fs.readFileSync(path.join(stack, "cdk.tf.json"), "utf8")).resource.terraform_data).length;
    const step = (what: string, args: string[], ok: number[] = [0]) => {
      process.stderr.write(`bench scale: ${hosts} hosts x ${guestsPerHost} guests: ${what} ...\n`);
      const r = terraform(stack, args, tfrc);
      if (!ok.includes(r.status)) throw new Error(`terraform ${args[0]} failed (${r.status}):\n${r.output.slice(-3000)}`);
      return r;
    };
    step("init", ["init", "-input=false", "-no-color"]);
    applied = true;
    const deploy = step("deploy", ["apply", "-auto-approve", "-input=false", "-no-color"]).seconds;
    // -detailed-exitcode: 0 is "No changes", 2 would be a diff (a failure of the bench, not a figure).
    const plan = step("no-change plan", ["plan", "-detailed-exitcode", "-input=false", "-no-color"]).seconds;
    const destroy = step("destroy", ["destroy", "-auto-approve", "-input=false", "-no-color"]).seconds;
    applied = false;
    return { hosts, guests: hosts * guestsPerHost, resources, deploy, noop_plan: plan, destroy };
  } finally {
    // A failed step leaves the lab up: take it down the way it was built before removing the rest.
    if (applied) terraform(stack, ["destroy", "-auto-approve", "-input=false", "-no-color"], tfrc);
    cleanLeftovers();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
