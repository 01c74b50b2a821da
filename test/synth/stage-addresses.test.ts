import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Lab } from "../../lib";
import { stageAddress } from "../../lib/cli/verify";
import { inventoryOf, renderLab } from "../../lib/render";

/** `cloudnet verify` names the Terraform address of each stage to re-apply: it must be the synthesized one, also for a lab nested in a team's construct. */
describe("stage addresses", () => {
  it.each([["at the stack's top", false], ["inside a team construct", true]])("match the synthesized resources %s", (_, nested) => {
    let lab!: Lab;
    const json = JSON.parse(Testing.synthScope((scope) => {
      const parent = nested ? new Construct(scope, "team") : scope;
      lab = new Lab(parent, "demo");
      const h1 = lab.addHost("h1");
      const app = lab.addSegment("app", { cidr: "10.0.0.0/24" });
      lab.addGuest("web", { host: h1, nics: [{ segment: app }] });
    }));
    const resolved = lab.resolve().lab!;
    const inv = inventoryOf(resolved);
    const synthesized = Object.keys(json.resource.terraform_data).map((k) => `terraform_data.${k}`).sort();
    expect(renderLab(resolved).map((s) => stageAddress(inv, s.id)).sort()).toEqual(synthesized);
  });
});
