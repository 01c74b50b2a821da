import { synthJson } from "../support/labs";
import { realLab } from "./support/real-lab";
import { hooksByStage, provisionersOf, theResource } from "./support/terraform-json";

/**
 * When a host's network stage is replaced its bridges are rebuilt, and what was plugged into them
 * must come back: a VM's TAP is re-plugged by the stage itself, a container is recreated.
 */
describe("guests on real hosts survive a rebuilt bridge", () => {
  const json = synthJson((s) => { realLab(s); });
  const hooks = hooksByStage(json);
  const script = (stage: string) => provisionersOf(hooks[stage].body)[0].body.inline.join("\n");

  it("the network stage of the VM's host plugs the VM's TAP (named by the lab) back into the bridge when it exists", () => {
    expect(script("network/h1")).toContain("if ! cn_link_missing labt-vm1-0; then ip link set labt-vm1-0 master labb-blue; fi");
    expect(script("network/h2")).not.toContain("labt-vm1-0");
  });

  it("the container and its Docker network are replaced with the network stage of their host", () => {
    const ref = `terraform_data.${hooks["network/h2"].name}`;
    expect(theResource(json, "docker_container").body.lifecycle).toEqual({ replace_triggered_by: [ref] });
    expect(theResource(json, "docker_network").body.lifecycle).toEqual({ replace_triggered_by: [ref] });
  });

  it("the container keeps its image's own command", () => {
    expect(theResource(json, "docker_container").body.command).toBeUndefined();
  });
});
