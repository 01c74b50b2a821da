import { formatIssues, resolveLab } from "../../lib/model";
import { emulatedLab, guest, host, pathOf, segment, theIssue } from "./support/lab-specs";

const blue = pathOf("blue");

describe("resolveLab segment issues", () => {
  it("CIDR without mask", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.10.0.1")] }));
    expect(issue).toEqual({ path: blue, message: "CIDR mask is missing in '10.10.0.1'. Did you mean '10.10.0.1/32'?" });
  });

  it("CIDR with host bits set", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.10.0.1/24")] }));
    expect(issue).toEqual({ path: blue, message: "'10.10.0.1/24' has host bits set. Did you mean '10.10.0.0/24'?" });
  });

  it.each([0, 16_777_216, -5, 1.5])("VNI %d is out of range", (vni) => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.10.0.0/24", { vni })] }));
    expect(issue).toEqual({ path: blue, message: `VNI ${vni} is out of range: a VXLAN network identifier is 1-16,777,215.` });
  });

  it("accepts the VNI bounds 1 and 16,777,215", () => {
    const r = theIssueOrNone([segment("a", "10.1.0.0/24", { vni: 1 }), segment("b", "10.2.0.0/24", { vni: 16_777_215 })]);
    expect(r).toBeUndefined();
  });

  it("duplicate VNI: reported at the second segment, naming the first", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("red", "10.1.0.0/24", { vni: 4242 }), segment("blue", "10.2.0.0/24", { vni: 4242 })] }));
    expect(issue.path).toBe(blue);
    expect(issue.message).toBe("VNI 4242 is already used by lab/red; give each segment its own VNI or leave it out to allocate one.");
  });

  it("MTU too small after encapsulation: underlayMtu 600 with an IPv6 subnet", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "fd00::/64", { underlayMtu: 600 })] }));
    expect(issue.path).toBe(blue);
    expect(issue.message).toBe("MTU 550 after VXLAN encapsulation (600 - 50) is below 1280, the minimum for IPv6; raise underlayMtu to at least 1330.");
  });

  it("MTU too small after encapsulation: underlayMtu 600 with an IPv4 subnet", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.10.0.0/24", { underlayMtu: 600 })] }));
    expect(issue.message).toBe("MTU 550 after VXLAN encapsulation (600 - 50) is below 576, the minimum for IPv4; raise underlayMtu to at least 626.");
  });

  it.each([100, 70000])("underlayMtu %d outside what a device can have", (underlayMtu) => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.10.0.0/24", { underlayMtu })] }));
    expect(issue).toEqual({ path: blue, message: `underlayMtu ${underlayMtu} is out of range 576-65535.` });
  });

  it("segment spanning a host that is not in the lab", () => {
    const issue = theIssue(emulatedLab({ hosts: [host("h1")], segments: [segment("blue", "10.10.0.0/24", { hosts: ["h9"] })] }));
    expect(issue).toEqual({ path: blue, message: "segment 'blue' spans host 'h9', which is not in the lab; add it with lab.addHost('h9')." });
  });

  it("two segments with the same name", () => {
    const issue = theIssue(emulatedLab({ segments: [segment("blue", "10.1.0.0/24"), { ...segment("blue", "10.2.0.0/24"), path: "lab/blue2" }] }));
    expect(issue).toEqual({ path: "lab/blue2", message: "segment name 'blue' is already used by lab/blue; give each segment its own name." });
  });

  it("a segment's error does not also blame the guests on it", () => {
    const issue = theIssue(emulatedLab({
      hosts: [host("h1")], segments: [segment("blue", "10.10.0.1/24")], guests: [guest("web", "h1", [{ segment: "blue" }])],
    }));
    expect(issue.path).toBe(blue);
  });
});

function theIssueOrNone(segments: ReturnType<typeof segment>[]) {
  const r = resolveLab(emulatedLab({ segments }));
  return r.issues.length ? formatIssues(r.issues) : undefined;
}
