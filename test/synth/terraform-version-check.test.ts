import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * cdktf's DataResource checks the Terraform version once per resource, each time spawning
 * `terraform version`. The lab's stages check it once per app: a fake `terraform` on PATH counts the
 * calls and says which version it is. It is named by TERRAFORM_BINARY_NAME, which cdktf reads when it
 * loads, so each synth loads cdktf and the library afresh (jest's process.env does not reach PATH
 * lookups of child processes).
 */
function synthWithTerraform(version: string, labs: number): { calls: number; error?: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-tfver-"));
  const log = path.join(dir, "calls");
  fs.writeFileSync(path.join(dir, "terraform"), `#!/bin/sh\necho x >> '${log}'\necho "Terraform v${version}"\n`, { mode: 0o755 });
  process.env.TERRAFORM_BINARY_NAME = path.join(dir, "terraform");
  try {
    jest.resetModules();
    const { App, TerraformStack } = require("cdktf") as typeof import("cdktf");
    const { Backend, Lab } = require("../../lib") as typeof import("../../lib");
    const app = new App({ outdir: path.join(dir, "out") });
    const stack = new TerraformStack(app, "stack");
    for (let l = 0; l < labs; l++) {
      const lab = new Lab(stack, `lab${l}`, { backend: Backend.emulated(), prefix: `tv${l}` });
      const h = lab.addHost("h1");
      const net = lab.addSegment("app", { cidr: "10.0.0.0/24" });
      for (let g = 0; g < 20; g++) lab.addGuest(`g${g}`, { host: h, nics: [{ segment: net }] });
    }
    let error: string | undefined;
    try {
      app.synth();
    } catch (e) {
      error = (e as Error).message;
    }
    return { calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0, error };
  } finally {
    delete process.env.TERRAFORM_BINARY_NAME;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the Terraform version is checked once per app, not per stage", () => {
  test("two labs of 20 guests each (over 50 stages): terraform version runs once", () => {
    expect(synthWithTerraform("1.11.0", 2)).toEqual({ calls: 1, error: undefined });
  });

  test("a Terraform without terraform_data fails synth with the reason and the fix", () => {
    const r = synthWithTerraform("1.3.9", 1);
    expect(r.calls).toBe(1);
    expect(r.error).toContain("terraform version 1.3.9 is lower than the required version >=1.4");
    expect(r.error).toContain("need Terraform 1.4 or later. Please upgrade Terraform.");
  });
});
