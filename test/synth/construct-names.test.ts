import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Guest, Host, Lab, NetworkMode, Port, SecurityGroup, Segment, Tenant, TenantNetwork } from "../../lib";

function newLab(): Lab {
  return new Lab(new TerraformStack(Testing.app(), "stack"), "lab");
}

describe("names are unique per kind in a lab, and a clash is reported at once", () => {
  it("adding a host twice throws immediately, naming the existing host", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addHost("h1")).toThrow(
      "[stack/lab/h1] host name 'h1' is already used by host stack/lab/h1 in lab stack/lab (hosts, guests, externals and pods share one namespace: each is a node); choose another name, or set { name } to name it apart from its construct id.",
    );
  });

  it("a guest named like a host throws immediately: both are nodes", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addGuest("h1", { host: "h1" })).toThrow("[stack/lab/h1] guest name 'h1' is already used by host stack/lab/h1 in lab stack/lab (hosts, guests, externals and pods share one namespace");
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

describe("parts refer only to parts of their own lab, and the lab's own ids stay its own", () => {
  const twoLabs = () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    const a = new Lab(stack, "a");
    const b = new Lab(stack, "b");
    for (const l of [a, b]) l.addHost("h1");
    return { stack, a, b, bNet: b.addSegment("net", { cidr: "10.2.0.0/24" }), aNet: a.addSegment("net", { cidr: "10.1.0.0/24" }) };
  };
  const fix = "parts of one lab can only refer to parts of the same lab.";

  it("a guest given another lab's host or network is refused at once, not placed on a namesake", () => {
    const { stack, a, b, bNet, aNet } = twoLabs();
    const bHost = b.node.findChild("h1") as Host;
    expect(() => new Guest(stack, "g1", { lab: a, host: bHost, nics: [{ segment: aNet }] })).toThrow(`[stack/g1] host 'h1' belongs to lab stack/b, not to lab stack/a; ${fix}`);
    expect(() => new Guest(stack, "g2", { host: bHost, nics: [{ segment: aNet }] })).toThrow(`[stack/g2] network 'net' belongs to lab stack/a, not to lab stack/b; ${fix}`);
    // Nothing half-made stays in the tree.
    expect(stack.node.tryFindChild("g1")).toBeUndefined();
    expect(() => new Guest(stack, "g3", { host: bHost, nics: [{ segment: bNet }] })).not.toThrow();
  });

  it("a service backend, a port forward target and a network's hosts from another lab are refused", () => {
    const { stack, a, b } = twoLabs();
    const bWeb = b.addGuest("web", { host: "h1" });
    const pub = a.addTenant("t").addNetwork("pub", { cidr: "10.3.0.0/24", mode: NetworkMode.nat() });
    expect(() => pub.addService("svc", { vip: "10.96.0.1", port: 80, backends: [{ guest: bWeb, port: 80 }] })).toThrow(`[stack/a/Tenants/t/pub/svc] guest 'web' belongs to lab stack/b, not to lab stack/a; ${fix}`);
    expect(() => pub.addPortForward({ hostPort: 8080, to: bWeb, port: 80 })).toThrow(`guest 'web' belongs to lab stack/b`);
    expect(() => new Segment(stack, "s", { lab: a, cidr: "10.4.0.0/24", hosts: [b.node.findChild("h1") as Host] })).toThrow(`[stack/s] host 'h1' belongs to lab stack/b, not to lab stack/a; ${fix}`);
  });

  it("a tenant network made outside its tenant reports a bad tenant name at the tenant, once per tenant", () => {
    const stack = new TerraformStack(Testing.app(), "stack");
    const lab = new Lab(stack, "lab");
    const nets = new Construct(stack, "Nets");
    for (const [id, name] of [["a", "Team_A"], ["b", "Team_B"]]) {
      const t = new Tenant(stack, id, { lab, name });
      new TenantNetwork(nets, `${id}-web`, { tenant: t, cidr: "10.5.0.0/24" });
    }
    const paths = lab.resolve().issues.filter((i) => i.message.startsWith("tenant name")).map((i) => i.path);
    expect(paths).toEqual(["stack/a", "stack/b"]);
  });

  it("ids the lab uses for itself are refused with the list; an empty name is reported at the part", () => {
    const lab = newLab();
    expect(() => new SecurityGroup(lab, "Stages", { name: "stages" })).toThrow("[stack/lab] security group id 'Stages' is one the lab uses for itself (Stages, Compute, Tenants, Segments, SecurityGroups, Clusters, QosPolicies, PodNetworks); choose another id.");
    const team = new Construct(lab.node.scope!, "Team");
    expect(() => new Host(team, "H1", { lab, name: "" })).toThrow("[stack/Team/H1] host name '' is not allowed");
  });

  it("a rule added after synth is refused at the group and not recorded", () => {
    const lab = newLab();
    lab.addHost("h1");
    const web = lab.addSecurityGroup("web");
    Testing.synth(lab.node.scope as TerraformStack);
    expect(() => web.addIngressRule(web, Port.tcp(80))).toThrow("[stack/lab/SecurityGroups/web] cannot change this part: lab stack/lab was already synthesized; make every change before synth.");
    expect(web._spec().ingress).toEqual([]);
  });
});
