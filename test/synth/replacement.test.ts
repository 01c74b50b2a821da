import { Construct } from "constructs";
import { Lab, NetworkMode, Peer, Port } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage } from "./support/terraform-json";

/**
 * What a change replaces: Terraform replaces a hook when its fingerprint changes, so the
 * fingerprints tell which stages a change tears down and applies again.
 */
interface Change { extraRule?: boolean; extraSegment?: boolean; extraGuest?: boolean; noGroup?: boolean }

function lab(scope: Construct, change: Change = {}): void {
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

function fingerprints(change: Change): Record<string, string> {
  const hooks = hooksByStage(synthJson((s) => lab(s, change)));
  return Object.fromEntries(Object.entries(hooks).map(([id, h]) => [id, h.body.triggers_replace.fingerprint]));
}

/** Stages of both labs whose fingerprint differs between the base lab and the changed one. */
function replaced(change: Change): string[] {
  const before = fingerprints({});
  const after = fingerprints(change);
  return Object.keys(after).filter((id) => id in before && before[id] !== after[id]).sort();
}

const CHANGES: Change[] = [{ extraRule: true }, { extraSegment: true }, { extraGuest: true }, { noGroup: true }];

describe("which stages a change replaces", () => {
  it("the base lab has these stages", () => {
    expect(Object.keys(fingerprints({})).sort()).toEqual([
      "converge", "converge/h1", "fabric", "firewall/h1", "guest/web1", "helpers", "host/h1", "inventory", "network/h1", "owner/h1",
    ]);
  });

  it("a security rule: only the rules stage and the inventory (which records the rules for cloudnet verify); never a guest or a converge", () => {
    // Same chains and sets: the converge stages' keep lists do not change, so they are not replaced.
    expect(replaced({ extraRule: true })).toEqual(["firewall/h1", "inventory"]);
  });

  it("a new segment on the host: the network, the rules re-applied with it, converge (a new link to keep) and the inventory; not the guest", () => {
    // The guest owns its namespace and converges in place: a changed network below it does not replace it.
    expect(replaced({ extraSegment: true })).toEqual(["converge/h1", "firewall/h1", "inventory", "network/h1"]);
  });

  it("a new guest: its own stage, the rules (its chains), both converges (its namespace, its host end) and the inventory; not the other guest", () => {
    const after = fingerprints({ extraGuest: true });
    expect(Object.keys(after).filter((id) => !(id in fingerprints({})))).toEqual(["guest/web2"]);
    expect(replaced({ extraGuest: true })).toEqual(["converge", "converge/h1", "firewall/h1", "inventory"]);
  });

  it("the last group taken out: the network (bridge filtering and br_netfilter no longer held), the rules, converge and the inventory", () => {
    expect(replaced({ noGroup: true })).toEqual(["converge/h1", "firewall/h1", "inventory", "network/h1"]);
  });

  it.each(CHANGES.map((c) => [JSON.stringify(c), c] as const))("%s never replaces an owner, a host or the fabric (their scripts depend on the prefix and host only)", (_, c) => {
    for (const id of ["owner/h1", "host/h1", "fabric"]) expect(replaced(c)).not.toContain(id);
  });
});
