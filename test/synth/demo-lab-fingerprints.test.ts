import { Backend, Lab } from "../../lib";
import { renderLab, stageFingerprints } from "../../lib/render";
import { synthJson } from "../support/labs";
import { hooksByStage } from "./support/terraform-json";

interface Variant { webAddress?: string; vni?: number }

/** The demo lab's shape with a knob or two, to see which hooks Terraform would replace. */
function fingerprints(v: Variant = {}): Record<string, string> {
  const json = synthJson((s) => {
    const lab = new Lab(s, "demo", { backend: Backend.emulated() });
    lab.addHost("h1");
    lab.addHost("h2");
    const blue = lab.addSegment("blue", { cidr: "10.10.0.0/24", vni: v.vni });
    lab.addGuest("web", { host: "h1", nics: [{ segment: blue, address: v.webAddress ?? "10.10.0.11" }] });
    lab.addGuest("db", { host: "h2", nics: [{ segment: blue, address: "10.10.0.12" }] });
  });
  return Object.fromEntries(Object.entries(hooksByStage(json)).map(([id, h]) => [id, h.body.triggers_replace.fingerprint]));
}

function changed(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys(a).filter((k) => a[k] !== b[k]).sort();
}

describe("hook fingerprints", () => {
  const base = fingerprints();

  it("an unchanged lab keeps every fingerprint (Terraform plans no changes)", () => {
    expect(changed(base, fingerprints())).toEqual([]);
  });

  it("a new guest address replaces only that guest and the inventory", () => {
    expect(changed(base, fingerprints({ webAddress: "10.10.0.21" }))).toEqual(["guest/web", "inventory"]);
  });

  it("a new VNI replaces the network stages, the rules (their VXLAN filter names the VNI) and the inventory (which declares the rules); not the guests plugged in (they converge in place), the hosts or converge", () => {
    expect(changed(base, fingerprints({ vni: 4242 }))).toEqual(["firewall/h1", "firewall/h2", "inventory", "network/h1", "network/h2"]);
  });

  it("each hook carries the fingerprint stageFingerprints gives its stage", () => {
    let lab: Lab | undefined;
    const json = synthJson((s) => {
      lab = new Lab(s, "demo", { backend: Backend.emulated() });
      lab.addHost("h1");
      lab.addHost("h2");
      const blue = lab.addSegment("blue", { cidr: "10.10.0.0/24" });
      lab.addGuest("web", { host: "h1", nics: [{ segment: blue, address: "10.10.0.11" }] });
      lab.addGuest("db", { host: "h2", nics: [{ segment: blue, address: "10.10.0.12" }] });
    });
    const expected = stageFingerprints(renderLab(lab!.resolve().lab!));
    const hooks = hooksByStage(json);
    expect(Object.keys(hooks).sort()).toEqual([...expected.keys()].sort());
    for (const [id, h] of Object.entries(hooks)) expect(h.body.triggers_replace.fingerprint).toBe(expected.get(id));
  });
});
