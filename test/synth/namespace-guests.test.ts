import { Backend, Compute, Lab, Port, Target } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage, provisionersOf, resourcesOf } from "./support/terraform-json";

/** `Compute.namespace()` guests on real hosts: a stage on their host, no provider resource at all. */
const json = synthJson((s) => {
  const lab = new Lab(s, "lab", { backend: Backend.hosts() });
  const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
  const h2 = lab.addHost("h2", { target: Target.ssh({ host: "192.0.2.11", user: "ops", sudo: true }), underlayAddress: "192.0.2.11" });
  const blue = lab.addSegment("blue", { cidr: "10.20.0.0/24" });
  const web = lab.addSecurityGroup("web");
  web.addIngressRule(web, Port.tcp(80));
  lab.addGuest("web1", { host: h1, compute: Compute.namespace(), nics: [{ segment: blue }], securityGroups: [web] });
  lab.addGuest("web2", { host: h2, compute: Compute.namespace(), nics: [{ segment: blue }], securityGroups: [web] });
});
const hooks = hooksByStage(json);

describe("namespace guests on real hosts (synth)", () => {
  it("each gets a guest stage over SSH on its host, after the host's network and rules, and the converge stage waits for it", () => {
    const ref = (stage: string) => `terraform_data.${hooks[stage].name}`;
    for (const [g, h] of [["web1", "h1"], ["web2", "h2"]]) {
      const hook = hooks[`guest/${g}`].body;
      expect(hook.depends_on).toEqual([ref(`helpers/${h}`), ref(`network/${h}`), ref(`firewall/${h}`)]);
      expect(hook.input.ssh.host).toBe(h === "h1" ? "192.0.2.10" : "192.0.2.11");
      const [apply] = provisionersOf(hook);
      expect(apply.kind).toBe("remote-exec");
      // The namespace is marked `-g.`, and its NIC's host end goes on the segment's bridge in the host's own namespace.
      expect(apply.body.inline[1]).toContain(`cn_netns_add lab-g.${g}\n`);
      expect(apply.body.inline[1]).toMatch(/\nip link set dev labt-web[12]-0 mtu 1450 master labb-blue up\n/);
      expect(hooks[`converge/${h}`].body.depends_on).toContain(ref(`guest/${g}`));
    }
  });

  it("needs neither libvirt nor Docker", () => {
    expect(Object.keys(json.resource).sort()).toEqual(["terraform_data"]);
    expect(json.provider ?? {}).toEqual({});
    expect(resourcesOf(json, "docker_container")).toEqual({});
  });
});
