import { renderHostNetwork } from "../../lib/render";
import { ResolvedLab } from "../../lib/model";
import { emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";

function fdbLines(lab: ResolvedLab, hostName: string): string[] {
  const stage = renderHostNetwork(lab, lab.hosts.find((h) => h.name === hostName)!, [])!;
  return stage.apply.split("\n").filter((l) => l.startsWith("bridge fdb append"));
}

describe("network stage", () => {
  // red spans h1, h2, h3 (through its guests); green spans h1 and h2 only.
  const lab = resolveOk(emulatedLab({
    name: "net",
    hosts: [host("h1"), host("h2"), host("h3")],
    segments: [segment("red", "10.1.0.0/24", { vni: 5001 }), segment("green", "10.2.0.0/24", { hosts: ["h1", "h2"] })],
    guests: [guest("a", "h1", [{ segment: "red" }]), guest("b", "h2", [{ segment: "red" }]), guest("c", "h3", [{ segment: "red" }])],
  }));

  it("has one flood entry per remote host of each segment, and none to itself", () => {
    expect(fdbLines(lab, "h1")).toEqual([
      "bridge fdb append 00:00:00:00:00:00 dev netv-red dst 198.18.0.2",
      "bridge fdb append 00:00:00:00:00:00 dev netv-red dst 198.18.0.3",
      "bridge fdb append 00:00:00:00:00:00 dev netv-green dst 198.18.0.2",
    ]);
    expect(fdbLines(lab, "h3")).toEqual([
      "bridge fdb append 00:00:00:00:00:00 dev netv-red dst 198.18.0.1",
      "bridge fdb append 00:00:00:00:00:00 dev netv-red dst 198.18.0.2",
    ]);
  });

  it("creates the VXLAN device with the segment's VNI and MTU, local to the host's underlay address", () => {
    const apply = renderHostNetwork(lab, lab.hosts[1], [])!.apply;
    expect(apply).toContain("if cn_link_missing netv-red; then ip link add netv-red mtu 1450 type vxlan id 5001 local 198.18.0.2 dstport 4789; fi");
    expect(apply).toContain("if cn_link_missing netb-red; then ip link add netb-red mtu 1450 type bridge; fi");
    expect(apply).toContain("ip link set netv-red master netb-red up");
  });

  it("touches only the segments the host is on", () => {
    const apply = renderHostNetwork(lab, lab.hosts[2], [])!.apply;
    expect(apply).not.toContain("green");
    expect(renderHostNetwork(lab, lab.hosts[2], [])!.title).toBe("network on h3: red");
  });

  it("is absent for a host on no segment", () => {
    const alone = resolveOk(emulatedLab({ hosts: [host("h1")] }));
    expect(renderHostNetwork(alone, alone.hosts[0], [])).toBeUndefined();
  });
});
