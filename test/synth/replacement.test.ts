import { Construct } from "constructs";
import { Lab, NetworkMode, Peer, Port } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage } from "./support/terraform-json";

/**
 * What a change replaces: Terraform replaces a hook when its fingerprint changes, so the
 * fingerprints tell which stages a change tears down and applies again.
 */
function lab(scope: Construct, change: { extraRule?: boolean; extraSegment?: boolean } = {}): void {
  const l = new Lab(scope, "lab");
  const h1 = l.addHost("h1");
  const app = l.addTenant("shop").addNetwork("app", { cidr: "10.20.0.0/24", mode: NetworkMode.nat() });
  if (change.extraSegment) l.addSegment("more", { cidr: "10.21.0.0/24", hosts: [h1] });
  const web = l.addSecurityGroup("web");
  web.addIngressRule(Peer.anyIpv4(), Port.tcp(8080));
  if (change.extraRule) web.addIngressRule(Peer.anyIpv4(), Port.tcp(9090));
  l.addGuest("web1", { host: h1, nics: [{ segment: app }], securityGroups: [web] });
}

function fingerprints(change: Parameters<typeof lab>[1]): Record<string, string> {
  const hooks = hooksByStage(synthJson((s) => lab(s, change)));
  return Object.fromEntries(Object.entries(hooks).map(([id, h]) => [id, h.body.triggers_replace.fingerprint]));
}

/** Stages whose fingerprint differs between the base lab and the changed one. */
function replaced(change: Parameters<typeof lab>[1]): string[] {
  const before = fingerprints({});
  const after = fingerprints(change);
  return Object.keys(after).filter((id) => before[id] !== after[id]).sort();
}

describe("which stages a change replaces", () => {
  it("a security rule: only the rules stage, never a guest, the base or the inventory", () => {
    expect(replaced({ extraRule: true })).toEqual(["firewall/h1"]);
  });

  it("a new segment on the host: the network and what is plugged into it, but not the firewall base", () => {
    const r = replaced({ extraSegment: true });
    expect(r).toContain("network/h1");
    expect(r).toContain("guest/web1");
    expect(r).not.toContain("firewall-base/h1");
  });
});
