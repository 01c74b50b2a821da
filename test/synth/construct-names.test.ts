import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Guest, Lab, Port, SecurityGroup, Segment, Tenant, TenantNetwork } from "../../lib";

function newLab(): Lab {
  return new Lab(new TerraformStack(Testing.app(), "stack"), "lab");
}

describe("names are unique per kind in a lab, and a clash is reported at once", () => {
  it("adding a host twice throws immediately, naming the existing host", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addHost("h1")).toThrow(
      "[stack/lab/h1] host name 'h1' is already used by host stack/lab/h1 in lab stack/lab (hosts, guests and externals share one namespace: each is a node); choose another name, or set { name } to name it apart from its construct id.",
    );
  });

  it("a guest named like a host throws immediately: both are nodes", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addGuest("h1", { host: "h1" })).toThrow("[stack/lab/h1] guest name 'h1' is already used by host stack/lab/h1 in lab stack/lab (hosts, guests and externals share one namespace");
  });

  it("parts of different kinds may share a name: guest, group, tenant and segment 'web'", () => {
    const lab = newLab();
    lab.addHost("h1");
    const web = lab.addSecurityGroup("web");
    web.addIngressRule(web, Port.tcp(80));
    const net = lab.addSegment("web", { cidr: "10.0.0.0/24" });
    lab.addTenant("web").addNetwork("app", { cidr: "10.1.0.0/24" });
    lab.addGuest("web", { host: "h1", nics: [{ segment: net }], securityGroups: [web] });
    expect(lab.resolve().issues).toEqual([]);
    expect([web.node.path, net.node.path]).toEqual(["stack/lab/SecurityGroups/web", "stack/lab/Segments/web"]);
  });

  it("a group name used twice across scopes is refused at once, naming where the first one is", () => {
    const lab = newLab();
    const tier = new Construct(lab.node.scope!, "WebTier");
    new SecurityGroup(tier, "web", { lab });
    expect(() => lab.addSecurityGroup("web")).toThrow(
      "[stack/lab/SecurityGroups/web] security group name 'web' is already used by security group stack/WebTier/web in lab stack/lab; choose another name, or set { name } to name it apart from its construct id.",
    );
    // The `name` prop sets it apart.
    expect(new SecurityGroup(tier, "web2", { lab, name: "web-b" }).name).toBe("web-b");
  });

  it("parts made outside the lab belong to the lab given, or to their host's or tenant's lab", () => {
    const lab = newLab();
    const tier = new Construct(lab.node.scope!, "WebTier");
    const h1 = lab.addHost("h1");
    const acme = new Tenant(tier, "acme", { lab });
    const app = new TenantNetwork(tier, "app", { tenant: acme, cidr: "10.2.0.0/24" });
    const seg = new Segment(tier, "mgmt", { lab, cidr: "10.3.0.0/24" });
    const g = new Guest(tier, "web1", { host: h1, nics: [{ segment: app }, { segment: seg }] });
    const spec = lab.toSpec();
    expect(spec.guests.map((x) => [x.name, x.path, x.host, x.nics.map((n) => n.segment)])).toEqual([["web1", "stack/WebTier/web1", "h1", ["acme-app", "mgmt"]]]);
    expect(spec.segments.map((s) => [s.name, s.path, s.tenant])).toEqual([["acme-app", "stack/WebTier/app", "acme"], ["mgmt", "stack/WebTier/mgmt", undefined]]);
    expect(g.name).toBe("web1");
  });

  it("a part outside any lab without { lab } says how to give it one", () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    expect(() => new SecurityGroup(stack, "web")).toThrow("[stack/web] security group 'web' has no lab: pass it, e.g. { lab }, or create it inside the lab's scope.");
  });

  it("two parts with one construct id in one scope are refused with both paths", () => {
    const lab = newLab();
    const tier = new Construct(lab.node.scope!, "WebTier");
    new SecurityGroup(tier, "web", { lab });
    expect(() => new Guest(tier, "web", { lab, host: "h1" })).toThrow("[stack/WebTier] guest id 'web' is already used by stack/WebTier/web in this scope; choose another id.");
  });

  // Regression (fixed): lib/constructs/lab.ts:105-107 passes the name straight to `new LabHost(this, name)`; for ''
  // constructs throws its own "Only root constructs may have an empty ID", with no lab path and no
  // fix-it, instead of the lab's "[stack/lab] host name '' is not allowed: ..." validation.
  it("an empty host name is reported with the lab path", () => {
    expect(() => newLab().addHost("")).toThrow(/\[stack\/lab\].*host name ''/);
  });

  it("nothing can be added once the lab is synthesized", () => {
    const lab = newLab();
    lab.addHost("h1");
    Testing.synth(lab.node.scope as TerraformStack);
    expect(() => lab.addGuest("g1", { host: "h1" })).toThrow("[stack/lab/g1] cannot add guest 'g1' to lab stack/lab: the lab was already synthesized; add everything before synth.");
  });
});
