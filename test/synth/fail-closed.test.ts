import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Lab } from "../../lib";

/**
 * An invalid lab never renders, even with cdktf's validation skipped: deploying an empty stack would
 * drop every stage from the state while the hosts keep everything. And synth never suggests
 * skipValidation.
 */
describe("an invalid lab fails closed", () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-failclosed-"));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const invalid = (app: App) => {
    const stack = new TerraformStack(app, "stack");
    const lab = new Lab(stack, "lab");
    const h1 = lab.addHost("h1");
    const net = lab.addSegment("app", { cidr: "10.0.0.0/24" });
    lab.addGuest("web", { host: h1, nics: [{ segment: net, address: "10.9.9.9" }] });
  };

  it.each([false, true])("skipValidation %s: synth throws with the issue at its path, and writes no stack", (skipValidation) => {
    const app = new App({ outdir: path.join(outdir, String(skipValidation)), skipValidation });
    invalid(app);
    let message = "";
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("[stack/lab/web] address 10.9.9.9 of NIC 0 is outside segment 'app' (10.0.0.0/24)");
    expect(message).not.toContain("skipValidation");
    expect(fs.existsSync(path.join(outdir, String(skipValidation), "stacks", "stack", "cdk.tf.json"))).toBe(false);
  });
  it("with two invalid labs, synth lists the issues of both", () => {
    const app = new App({ outdir: path.join(outdir, "two") });
    const stack = new TerraformStack(app, "stack");
    for (const name of ["one", "two"]) {
      const lab = new Lab(stack, name);
      const h1 = lab.addHost("h1");
      lab.addGuest("web", { host: h1, nics: [{ segment: lab.addSegment("app", { cidr: "10.0.0.0/24" }), address: "10.9.9.9" }] });
    }
    expect(() => app.synth()).toThrow(/\[stack\/one\/web\] address 10\.9\.9\.9[\s\S]*\[stack\/two\/web\] address 10\.9\.9\.9/);
  });
});
