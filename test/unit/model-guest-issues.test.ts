import { ComputeSpec, LabSpec, NicSpec, resolveLab } from "../../lib/model";
import { emulatedLab, guest, host, pathOf, resolveOk, segment, theIssue } from "./support/lab-specs";

const web = pathOf("web");

/** One host h1, segment blue 10.10.0.0/24, and the given guests. */
function labWith(...guests: LabSpec["guests"]): LabSpec {
  return emulatedLab({ hosts: [host("h1")], segments: [segment("blue", "10.10.0.0/24")], guests });
}

const webWith = (nics: NicSpec[], compute?: ComputeSpec) => guest("web", "h1", nics, compute ? { compute } : {});
const vm = (extra: Partial<Extract<ComputeSpec, { kind: "vm" }>["vm"]>): ComputeSpec => ({
  kind: "vm", vm: { image: "/var/lib/images/debian.qcow2", memoryMiB: 512, vcpus: 1, user: "cloud", pool: "default", ...extra },
});

describe("resolveLab guest issues", () => {
  it("address that is not an IP address: '10.10.0.999'", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", address: "10.10.0.999" }])));
    expect(issue.path).toBe(web);
    expect(issue.message).toContain("address '10.10.0.999' of NIC 0 is not an IP address;");
  });

  // Regression (fixed): lib/model/resolve.ts:228 reports the bare parse error "'10.10.0.999' is not an IP address."
  // It does not say which NIC (a guest may have several) nor give a fix, unlike the sibling
  // "address ... of NIC 0 is outside segment 'blue' (10.10.0.0/24); pick a host address inside it".
  it("a bad NIC address says which NIC and what to give instead", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", address: "10.10.0.999" }])));
    expect(issue.message).toContain("NIC 0");
    expect(issue.message).toMatch(/10\.10\.0\.0\/24|leave address out/);
  });

  it("address outside the segment", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", address: "10.20.0.5" }])));
    expect(issue).toEqual({
      path: web,
      message: "address 10.20.0.5 of NIC 0 is outside segment 'blue' (10.10.0.0/24); pick a host address inside it or leave address out.",
    });
  });

  it("IPv6 address on an IPv4 segment is outside it", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", address: "fd00::5" }])));
    expect(issue.message).toContain("address fd00::5 of NIC 0 is outside segment 'blue'");
  });

  it.each(["10.10.0.0", "10.10.0.255"])("the network or broadcast address %s", (address) => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", address }])));
    expect(issue).toEqual({
      path: web,
      message: `address ${address} of NIC 0 is the network or broadcast address of segment 'blue' (10.10.0.0/24); pick a host address inside it or leave address out.`,
    });
  });

  it("colliding static addresses: reported at the second guest, naming the first", () => {
    const issue = theIssue(labWith(
      guest("db", "h1", [{ segment: "blue", address: "10.10.0.11" }]),
      webWith([{ segment: "blue", address: "10.10.0.11" }]),
    ));
    expect(issue).toEqual({ path: web, message: "address 10.10.0.11 of NIC 0 is already used by lab/db on segment 'blue'." });
  });

  it("no free address left in a small segment", () => {
    // A /30 has two usable addresses, .1 and .2; small subnets allocate from .2 (.1 is kept for a gateway), so the second guest finds none.
    const guests = ["g1", "web"].map((n) => guest(n, "h1", [{ segment: "tiny" }]));
    const issue = theIssue(emulatedLab({ hosts: [host("h1")], segments: [segment("tiny", "10.10.0.0/30")], guests }));
    expect(issue).toEqual({ path: web, message: "segment 'tiny' (10.10.0.0/30) has no free address left for guest 'web'; use a larger subnet." });
  });

  it("a small segment (/29) allocates from .2 on", () => {
    const lab = resolveOk(emulatedLab({ hosts: [host("h1")], segments: [segment("tiny", "10.10.0.0/29")], guests: [webWith([{ segment: "tiny" }])] }));
    expect(lab.guests[0].nics[0].address.toString()).toBe("10.10.0.2");
  });

  it("guest on a host that is not in the lab", () => {
    const issue = theIssue(labWith(guest("web", "h9")));
    expect(issue).toEqual({ path: web, message: "guest 'web' is placed on host 'h9', which is not in the lab; add it with lab.addHost('h9')." });
  });

  it("NIC on a segment that is not in the lab", () => {
    const issue = theIssue(labWith(webWith([{ segment: "green" }])));
    expect(issue).toEqual({ path: web, message: "NIC 0 joins segment 'green', which is not in the lab; add it with lab.addSegment('green', { cidr: ... })." });
  });

  it("MAC that is not a MAC address", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", mac: "52:54:00:zz:00:01" }])));
    expect(issue).toEqual({ path: web, message: "'52:54:00:zz:00:01' is not a MAC address such as '52:54:00:12:34:56'." });
  });

  it("multicast MAC", () => {
    const issue = theIssue(labWith(webWith([{ segment: "blue", mac: "01:00:5e:00:00:01" }])));
    expect(issue).toEqual({ path: web, message: "'01:00:5e:00:00:01' is a multicast MAC address; a NIC needs a unicast one (even first byte)." });
  });

  it("duplicate MAC: reported at the second NIC, naming the first", () => {
    const mac = "02:00:00:00:00:01";
    const issue = theIssue(labWith(guest("db", "h1", [{ segment: "blue", mac }]), webWith([{ segment: "blue", mac }])));
    expect(issue).toEqual({ path: web, message: `MAC ${mac} of NIC 0 is already used by lab/db NIC 0; leave mac out to derive one.` });
  });

  it("container image that is not an image reference", () => {
    const issue = theIssue(labWith(webWith([], { kind: "container", container: { image: "nginx; rm -rf /" } })));
    expect(issue).toEqual({ path: web, message: "container image 'nginx; rm -rf /' is not an image reference such as 'nginx:1.27'." });
  });

  it("VM SSH key that is not one line of an OpenSSH public key", () => {
    const issue = theIssue(labWith(webWith([], vm({ sshPublicKey: "ssh-ed25519 AAAA\nruncmd: [reboot]" }))));
    expect(issue).toEqual({ path: web, message: "sshPublicKey is not one line of an OpenSSH public key ('ssh-ed25519 AAAA... comment')." });
  });

  it("VM image with a quote", () => {
    const issue = theIssue(labWith(webWith([], vm({ image: "/img/x'.qcow2" }))));
    expect(issue).toEqual({ path: web, message: "VM image '/img/x'.qcow2' must be a URL or path without spaces or quotes." });
  });

  it.each([
    [{ memoryMiB: 32 }, "VM memory 32 MiB is too small: give at least 64."],
    [{ vcpus: 0 }, "VM vcpus 0 is out of range 1-256."],
    [{ pool: "de fault" }, "libvirt pool 'de fault' may only contain A-Z a-z 0-9 _ -."],
  ])("VM sizing and pool %j", (extra, message) => {
    const issue = theIssue(labWith(webWith([], vm(extra))));
    expect(issue).toEqual({ path: web, message });
  });

  it("accepts a well-formed VM", () => {
    const r = resolveLab(labWith(webWith([{ segment: "blue" }], vm({ sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@laptop" }))));
    expect(r.issues).toEqual([]);
  });
});
