import { Testing } from "cdktf";
import { ShopStack } from "../main";
import { WebTier } from "../lib/web-tier";

describe("the shop lab", () => {
  it("plans what it planned before (snapshot of the synthesized Terraform)", () => {
    const stack = new ShopStack(Testing.app(), "shop");
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  it("puts one web guest on each host, in the web group", () => {
    const { lab } = new ShopStack(Testing.app(), "shop");
    const resolved = lab.resolve().lab!;
    expect(resolved.guests.map((g) => [g.name, g.host, g.nics[0].securityGroups])).toEqual([
      ["web1", "h1", ["web"]],
      ["web2", "h2", ["web"]],
    ]);
  });

  it("a mistake in the team's construct is reported at the team's own path", () => {
    const stack = new ShopStack(Testing.app(), "shop");
    new WebTier(stack, "Broken", { lab: stack.lab, tenant: stack.lab.addTenant("broken"), hosts: [], cidr: "10.50.0.5/24", name: "broken" });
    expect(() => Testing.synth(stack)).toThrow("[shop/Broken/net] '10.50.0.5/24' has host bits set. Did you mean '10.50.0.0/24'?");
  });
});
