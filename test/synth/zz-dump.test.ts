import { Construct } from "constructs";
import { Lab, NetworkMode, Peer, Port } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage } from "./support/terraform-json";
function lab(scope: Construct, change: any = {}): void {
  const l = new Lab(scope, "lab");
  const h1 = l.addHost("h1");
  const app = l.addTenant("shop").addNetwork("app", { cidr: "10.20.0.0/24", mode: NetworkMode.nat() });
  if (change.extraSegment) l.addSegment("more", { cidr: "10.21.0.0/24", hosts: [h1] });
  const web = l.addSecurityGroup("web");
  web.addIngressRule(Peer.anyIpv4(), Port.tcp(8080));
  if (change.extraRule) web.addIngressRule(Peer.anyIpv4(), Port.tcp(9090));
  l.addGuest("web1", { host: h1, nics: [{ segment: app }], securityGroups: change.noGroup ? [] : [web] });
  if (change.extraGuest) l.addGuest("web2", { host: h1, nics: [{ segment: app }], securityGroups: [web] });
}
function fingerprints(change: any): Record<string, string> {
  const hooks = hooksByStage(synthJson((s) => lab(s, change)));
  return Object.fromEntries(Object.entries(hooks).map(([id, h]) => [id, h.body.triggers_replace.fingerprint]));
}
it("dump", () => {
  const before = fingerprints({});
  console.log(Object.keys(before).sort().join(" "));
  for (const c of [{ extraRule: true }, { extraSegment: true }, { noGroup: true }, { extraGuest: true }]) {
    const after = fingerprints(c);
    console.log(JSON.stringify(c), Object.keys(after).filter((id) => before[id] !== after[id]).sort().join(" "), "| new:", Object.keys(after).filter((id) => !(id in before)).join(" "), "| gone:", Object.keys(before).filter((id) => !(id in after)).join(" "));
  }
});
