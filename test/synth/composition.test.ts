import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Guest, Host, Lab, NetworkMode, Peer, Port, SecurityGroup, Tenant, TenantNetwork } from "../../lib";
import { hooksOf, synthError } from "../support/labs";

/** The README's WebTier: a team's construct that owns its network, group and guest. */
class WebTier extends Construct {
  readonly web: SecurityGroup;
  readonly guest: Guest;
  constructor(scope: Construct, id: string, props: { lab: Lab; tenant: Tenant; host: Host; cidr?: string; address?: string }) {
    super(scope, id);
    const { lab, tenant, host } = props;
    const app = new TenantNetwork(this, "app", { tenant, cidr: props.cidr ?? "10.30.0.0/24", mode: NetworkMode.nat() });
    this.web = new SecurityGroup(this, "web", { lab });
    this.web.addIngressRule(Peer.anyIpv4(), Port.tcp(80));
    this.guest = new Guest(this, "web1", { host, nics: [{ segment: app, address: props.address }], securityGroups: [this.web] });
  }
}

function shop(stack: Construct, tierProps: { cidr?: string; address?: string } = {}) {
  const lab = new Lab(stack, "lab");
  const host = lab.addHost("h1");
  const tenant = lab.addTenant("shop");
  const tier = new WebTier(stack, "WebTier", { lab, tenant, host, ...tierProps });
  return { lab, tier };
}

describe("constructs compose: a team's construct owns its parts", () => {
  it("the README's WebTier synthesizes; its parts live under it and the lab renders them", () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    const { lab, tier } = shop(stack);
    expect([tier.guest.node.path, tier.web.node.path]).toEqual(["stack/WebTier/web1", "stack/WebTier/web"]);
    const hooks = hooksOf(JSON.parse(Testing.synth(stack)));
    expect(Object.keys(hooks).some((k) => k.includes("guest_web1"))).toBe(true);
    const resolved = lab.resolve().lab!;
    expect(resolved.guests.map((g) => [g.name, g.nics[0].securityGroups])).toEqual([["web1", ["web"]]]);
    expect(resolved.segments.map((s) => s.name)).toEqual(["shop-app"]);
  });

  it("an error in the team's construct is reported at the team's path", () => {
    const error = synthError((stack) => shop(stack, { address: "10.99.0.5" }));
    expect(error).toContain("[stack/WebTier/web1] address 10.99.0.5 of NIC 0 is outside segment 'shop-app' (10.30.0.0/24)");
  });

  it("a warning is annotated at the team's construct, wherever it is in the tree", () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    const { lab } = shop(stack);
    // A rule naming a group without members is a warning, at the rule's group: here outside the lab.
    const empty = lab.addSecurityGroup("empty");
    new SecurityGroup(new Construct(stack, "Data"), "db", { lab }).addIngressRule(empty, Port.tcp(5432));
    Testing.synth(stack);
    const at = stack.node.findAll().filter((c) => c.node.metadata.some((m) => m.type === "@cdktf/warn"));
    expect(at.map((c) => c.node.path)).toEqual(["stack/Data/db"]);
  });

  it("two instances of the team's construct need their own names: the second is refused at once, with the fix", () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    const { lab } = shop(stack);
    const tenant = new Tenant(stack, "other", { lab });
    expect(() => new WebTier(stack, "WebTier2", { lab, tenant, host: lab.node.findChild("h1") as Host })).toThrow(
      "[stack/WebTier2/web] security group name 'web' is already used by security group stack/WebTier/web in lab stack/lab; choose another name, or set { name } to name it apart from its construct id.",
    );
  });
});
