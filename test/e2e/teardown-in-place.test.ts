// With real Terraform: a stage whose teardown alone changes (an owner's, when the library's helpers
// change but its identity does not) is neither replaced nor even changed: the teardown is written in
// its destroy provisioner, and Terraform runs the current configuration's. Its old teardown never
// runs (a replacement would have run it and taken the lab down); destroy runs the new one.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Backend, Lab } from "../../lib";
import { cleanupPrefix, isRoot, listNetns, run, uniquePrefix } from "../support/netns";

const TIMEOUT = 180_000;

function terraform(dir: string, ...args: string[]): { status: number; output: string } {
  const r = spawnSync("terraform", args, { cwd: dir, encoding: "utf8", env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" } });
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

(isRoot() ? describe : describe.skip)("a teardown that changes alone is taken in place (e2e, real Terraform)", () => {
  const p = uniquePrefix("i");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-inplace-"));
  const file = path.join(dir, "stacks", "inplace", "cdk.tf.json");
  const ifindex = () => run("ip", ["-n", `${p}-h1`, "-o", "link", "show", "dev", `${p}b-app`]).split(":")[0];

  beforeAll(() => {
    const app = new App({ outdir: dir });
    const lab = new Lab(new TerraformStack(app, "inplace"), "lab", { backend: Backend.emulated(), prefix: p });
    const h1 = lab.addHost("h1");
    lab.addGuest("g1", { host: h1, nics: [{ segment: lab.addSegment("app", { cidr: "10.91.0.0/24" }) }] });
    app.synth();
  });
  afterAll(() => {
    terraform(path.dirname(file), "destroy", "-auto-approve", "-no-color");
    cleanupPrefix(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT);

  test("the owner's new teardown plans no change and replaces nothing; destroy runs the new one", () => {
    const cwd = path.dirname(file);
    expect(terraform(cwd, "init", "-no-color")).toMatchObject({ status: 0 });
    const first = terraform(cwd, "apply", "-auto-approve", "-no-color");
    expect({ status: first.status, out: first.status ? first.output : "" }).toEqual({ status: 0, out: "" });
    const before = ifindex();

    // Version 2: only the owner's teardown differs (one more line), as a change of a helper it calls would.
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    const owner = Object.values<any>(json.resource.terraform_data).find((r) => r.input.stage === "owner/h1");
    const destroy = owner.provisioner.map((x: any) => x["local-exec"]).find((x: any) => x.when === "destroy");
    const marked = (destroy.environment.CLOUDNET_SCRIPT_0 as string).replace("set -Eeuo pipefail\n", "set -Eeuo pipefail\necho cloudnet-owner-teardown-v2 >&2\n");
    expect(marked).not.toBe(destroy.environment.CLOUDNET_SCRIPT_0);
    destroy.environment.CLOUDNET_SCRIPT_0 = marked;
    fs.writeFileSync(file, JSON.stringify(json, null, 2));

    const plan = terraform(cwd, "plan", "-no-color", "-detailed-exitcode");
    expect({ status: plan.status, out: plan.status ? plan.output : "" }).toEqual({ status: 0, out: "" });
    expect(plan.output).toContain("No changes.");
    const second = terraform(cwd, "apply", "-auto-approve", "-no-color");
    expect({ status: second.status, out: second.status ? second.output : "" }).toEqual({ status: 0, out: "" });
    // Nothing was torn down: no teardown ran, the host's bridge is the same device.
    expect(second.output).not.toContain("Destroying...");
    expect(ifindex()).toBe(before);

    const gone = terraform(cwd, "destroy", "-auto-approve", "-no-color");
    expect({ status: gone.status, out: gone.status ? gone.output : "" }).toEqual({ status: 0, out: "" });
    expect(gone.output).toContain("cloudnet-owner-teardown-v2");
    expect(listNetns().filter((n) => n.startsWith(`${p}-`))).toEqual([]);
  }, TIMEOUT);
});
