import { DeployProgress, describeResource, terraformSeconds } from "../../lib/cli/deploy-progress";

/** Lines as `cdktf deploy` prints them with CI=true (stack-name prefix or indent, construct path, ANSI colours). */
const ESC = "\x1b";
const bold = (s: string) => `${ESC}[0m${ESC}[1m${s}${ESC}[0m${ESC}[0m`;
const R = "terraform_data.lab_Stages_network_h1_hook_5995A148";
const G = "terraform_data.lab_Stages_guest_web1_hook_6B9C7E56";

function run(verb: "deploy" | "destroy", lines: string[], status = 0): string[] {
  const out: string[] = [];
  const p = new DeployProgress(verb, (l) => out.push(l), () => 0);
  for (const l of lines) p.line(l);
  p.finish(status, "log.txt");
  return out;
}

describe("deploy progress", () => {
  it("names stages from their resource address, and leaves other resources as they are", () => {
    expect(describeResource(R)).toBe("network/h1");
    expect(describeResource("terraform_data.shop_lab_Stages_converge_hook_D0B587AD")).toBe("converge");
    expect(describeResource("docker_container.lab_Compute_h1_web1_ABCDEF01")).toBe("docker_container.lab_Compute_h1_web1_ABCDEF01");
    expect(terraformSeconds("0s")).toBe(0);
    expect(terraformSeconds("1m3s")).toBe(63);
    expect(terraformSeconds("1h0m2s")).toBe(3602);
  });

  it("one line per stage as it completes, with Terraform's time, and a summary", () => {
    const out = run("deploy", [
      `shop  ${bold(`${R} (lab/Stages/network_h1/hook): Creating...`)}`,
      `      ${bold(`${R} (lab/Stages/network_h1/hook) (local-exec):`)} ${ESC}[0mcloudnet: network on h1`,
      `      ${bold(`${G}: Creating...`)}`,
      `      ${bold(`${R} (lab/Stages/network_h1/hook): Creation complete after 12s [id=14893fad]`)}`,
      `shop  ${bold(`${G}: Still creating... [10s elapsed]`)}`,
      `shop  ${bold(`${G}: Creation complete after 1m3s [id=aa1cf241]`)}`,
      "shop  Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
    ]);
    expect(out).toEqual([
      "  applied  network/h1                      12s",
      "  ...      guest/web1                   still running (10s)",
      "  applied  guest/web1                     1m3s",
      "cloudnet: deploy done in 0.0 s, 2 stages applied (slowest: guest/web1, 63 s); full log: log.txt",
    ]);
  });

  it("a plan without changes says so", () => {
    const out = run("deploy", ["shop  No changes. Your infrastructure matches the configuration.", "shop  Apply complete! Resources: 0 added, 0 changed, 0 destroyed."]);
    expect(out).toEqual(["cloudnet: deploy done in 0.0 s, no changes: the lab is as declared; full log: log.txt"]);
  });

  it("a failed stage: its last output and Terraform's error, without the config excerpt or the launcher's text", () => {
    const box = (s: string) => `      ${ESC}[31m│${ESC}[0m ${s}`;
    const out = run("deploy", [
      `      ${bold(`${R}: Creating...`)}`,
      `      ${bold(`${R} (local-exec):`)} Executing: ["/bin/bash" "-c" "set -euo pipefail"]`,
      `      ${bold(`${R} (local-exec):`)} cloudnet: network on h1`,
      `      ${bold(`${R} (local-exec):`)} RTNETLINK answers: File exists`,
      `      ${ESC}[31m╷${ESC}[0m`,
      box(`${ESC}[1m${ESC}[31mError: ${ESC}[0mlocal-exec provisioner error`),
      box(""),
      box(`  with ${R},`),
      box("  on cdk.tf.json line 19, in resource.terraform_data.x.provisioner[0].local-exec:"),
      box("  19:       }"),
      box(""),
      box("Error running command 'set -euo pipefail"),
      box("f=$(mktemp)': exit status 2. Output: cloudnet: network on h1"),
      box("RTNETLINK answers: File exists"),
      `      ${ESC}[31m╵${ESC}[0m`,
    ], 1);
    expect(out).toEqual([
      "  FAILED   network/h1",
      "           | cloudnet: network on h1",
      "           | RTNETLINK answers: File exists",
      "  Error: local-exec provisioner error",
      `    at network/h1 (${R})`,
      "  exit status 2. Output: cloudnet: network on h1",
      "  RTNETLINK answers: File exists",
      "cloudnet: deploy failed after 0.0 s; the full Terraform log is log.txt",
    ]);
  });

  it("destroy says removed", () => {
    expect(run("destroy", [`shop  ${R}: Destruction complete after 0s`, "shop  Destroy complete! Resources: 1 destroyed."])).toEqual([
      "  removed  network/h1                       0s",
      "cloudnet: destroy done in 0.0 s, 1 stage removed; full log: log.txt",
    ]);
  });
});
