import { Construct } from "constructs";
import { Backend, Compute, Lab, NetworkMode, Target } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage, provisionersOf } from "./support/terraform-json";

/** A nat tenant network whose router lives on a host reached over SSH. */
function build(scope: Construct): void {
  const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
  const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
  const web = lab.addTenant("acme").addNetwork("web", { cidr: "10.0.0.0/24", mode: NetworkMode.nat() });
  lab.addGuest("app", { host: h1, compute: Compute.container({ image: "nginx:1.27" }), nics: [{ segment: web }] });
}

describe("a gateway host reached over SSH", () => {
  // Regression (fixed): lib/targets/hook.ts sshHook (line 92-97) wraps every stage script in a heredoc ending at a line
  // "CLOUDNET_EOF" and refuses scripts containing that line, but lib/render/firewall/restore.ts applyRuleset (line 30)
  // passes the iptables-restore payload through heredoc() with the same default tag, so every firewall stage
  // contains it: any Backend.hosts() lab with a nat or routed network on an SSH host fails synth with
  // "stage firewall/h1 contains the heredoc terminator". Repro: this test. Fix: give the two heredocs different
  // tags (e.g. heredoc(..., "CLOUDNET_RULES") in restore.ts), or let sshHook pick a tag absent from the script.
  it("synthesizes, with the firewall stage applied by remote-exec", () => {
    const json = synthJson(build);
    const hooks = hooksByStage(json);
    expect(Object.keys(hooks).sort()).toEqual(["converge/h1", "firewall/h1", "helpers/h1", "network/h1", "owner/h1"]);
    const [apply] = provisionersOf(hooks["firewall/h1"].body);
    expect(apply.kind).toBe("remote-exec");
    expect(apply.body.inline.join("\n")).toContain("iptables-restore -w --noflush");
  });
});
