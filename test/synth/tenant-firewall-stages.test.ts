import { Construct } from "constructs";
import { Backend, Lab, NetworkMode } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage, provisionersOf, teardownScriptOf } from "./support/terraform-json";

/**
 * An emulated tenant lab with an external, a port forward and a service: each host gets one firewall
 * stage (the rules, re-applied with the network stage) whose destroy removes nothing, the gateway
 * host h1's with the NAT; h1's owner stage removes the chains on destroy, and the network stage holds
 * the uplink's forwarding.
 */
function build(scope: Construct): void {
  const lab = new Lab(scope, "lab", { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const h2 = lab.addHost("h2");
  lab.addExternal("internet");
  const web = lab.addTenant("acme").addNetwork("web", { cidr: "10.0.0.0/24", mode: NetworkMode.nat() });
  lab.addGuest("a1", { host: h1, nics: [{ segment: web, address: "10.0.0.11" }] });
  lab.addGuest("a2", { host: h2, nics: [{ segment: web, address: "10.0.0.12" }] });
  web.addPortForward({ hostPort: 8081, to: "a2", port: 8080 });
  web.addService("api", { vip: "10.96.0.10", port: 80, nodePort: 30080, backends: [{ guest: "a1", port: 8080 }, { guest: "a2", port: 8080, weight: 3 }] });
}

describe("firewall stages of a tenant lab's gateway host", () => {
  const json = synthJson(build);
  const hooks = hooksByStage(json);
  const ref = (stage: string) => `terraform_data.${hooks[stage].name}`;
  const applyScript = (stage: string) => provisionersOf(hooks[stage].body)[0].body.environment.CLOUDNET_SCRIPT_0 as string;

  it("h1 (the gateway) and h2 (on the network) each get their firewall stage; only h1's has NAT", () => {
    expect(Object.keys(hooks).filter((id) => id.startsWith("firewall")).sort()).toEqual(["firewall/h1", "firewall/h2"]);
    expect(applyScript("firewall/h1")).toContain("\n*nat\n");
    expect(applyScript("firewall/h2")).not.toContain("\n*nat\n");
    expect(applyScript("firewall/h2")).toContain("\n-A CN-lab-IN -i labb-acme-web -j DROP\n");
  });

  it("the rules wait for their host's network stage, and each host's converge and guests wait for its rules", () => {
    for (const h of ["h1", "h2"]) {
      expect(hooks[`firewall/${h}`].body.depends_on).toEqual([ref("helpers"), ref(`network/${h}`)]);
      expect(hooks[`converge/${h}`].body.depends_on).toContain(ref(`firewall/${h}`));
    }
    expect(hooks["guest/a1"].body.depends_on).toEqual([ref("helpers"), ref("network/h1"), ref("firewall/h1")]);
    expect(hooks["guest/a2"].body.depends_on).toEqual([ref("helpers"), ref("network/h2"), ref("firewall/h2")]);
  });

  it("the rules stage restores the port forward, node port and service chains atomically", () => {
    const script = applyScript("firewall/h1");
    expect(script).toContain("cn_in - iptables-restore -w --noflush <<'CLOUDNET_EOF'\n");
    expect(script).toContain("-A CN-lab-DNAT -d 198.18.0.1/32 -p tcp --dport 8081 -j DNAT --to-destination 10.0.0.12:8080\n");
    expect(script).toContain("-A CN-lab-DNAT -d 198.18.0.1/32 -p tcp --dport 30080 -j CN-lab-SVC-api\n");
    expect(script).toContain("-A CN-lab-SVC-api -p tcp -m statistic --mode random --probability 0.2500000000 -j DNAT --to-destination 10.0.0.11:8080\n");
    expect(script).toContain("cn_in lab-rt.acme-web.h1 iptables-restore -w --noflush <<'CLOUDNET_EOF'\n");
  });

  it("the owner removes every chain of the lab on destroy; the rules stage removes nothing", () => {
    const ownerTeardown = teardownScriptOf(hooks["owner/h1"].body);
    expect(ownerTeardown).toContain("cn_fw_prune - iptables iptables-save nat CN-lab- -\n");
    expect(ownerTeardown).toContain("cn_fw_prune - ip6tables ip6tables-save filter CN-lab- -\n");
    const rulesTeardown = teardownScriptOf(hooks["firewall/h1"].body);
    expect(rulesTeardown).not.toContain("cn_fw_prune -");
    expect(rulesTeardown).not.toContain("iptables -");
    expect(rulesTeardown).toMatch(/\ncn_log 'remove firewall rules on h1'\n: # [^\n]*\n$/);
  });

  it("converge keeps the chains the rules declare; h1's network stage holds forwarding on the uplink, not ip_forward", () => {
    const converge = applyScript("converge/h1");
    expect(converge).toContain("\ncn_fw_prune - iptables iptables-save nat CN-lab- CN-lab-DNAT,CN-lab-SNAT,CN-lab-SVC-api\n");
    const network = applyScript("network/h1");
    expect(network).toContain("\ncn_sysctl_hold net/ipv4/conf/eth0/forwarding lab-h1 lab\nsysctl -qw net/ipv4/conf/eth0/forwarding=1\n");
    expect(network).not.toMatch(/^(cn_sysctl_hold|sysctl -qw) net\.ipv4\.ip_forward/m);
    expect(applyScript("firewall/h1")).not.toMatch(/^\s*(cn_sysctl_hold|sysctl|modprobe)\b/m);
  });
});
