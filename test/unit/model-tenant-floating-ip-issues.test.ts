import { NicSpec } from "../../lib/model";
import { emulatedLab, guest, host, pathOf, resolveOk, segment, theIssue } from "./support/lab-specs";
import { NAT } from "./support/tenant-specs";

/** Floating IPs: 1:1 NAT addresses on the external network (the fabric of an emulated lab). */

const lab = (nics: Record<string, NicSpec>, mode: "nat" | "isolated" = "nat") => emulatedLab({
  hosts: [host("h1"), host("h2")],
  externals: [{ name: "internet", path: pathOf("internet") }],
  segments: [segment("web", "10.1.0.0/24", { mode: mode === "nat" ? NAT : { kind: "isolated" }, hosts: ["h1"] })],
  guests: Object.entries(nics).map(([name, nic]) => guest(name, "h1", [nic])),
});

describe("floating IP issues", () => {
  it("on an isolated segment", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "198.18.0.100" } }, "isolated"))).toEqual({
      path: pathOf("a"),
      message: "NIC 0 has floating IP 198.18.0.100 on isolated segment 'web'; floating IPs need a nat segment (its gateway does the 1:1 NAT).",
    });
  });

  it("outside the fabric", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "203.0.113.5" } }))).toEqual({
      path: pathOf("a"),
      message: "floating IP 203.0.113.5 of NIC 0 is outside the fabric 198.18.0.0/24, the external network of an emulated lab; pick an address inside it.",
    });
  });

  it("equal to a host's underlay address", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "198.18.0.2" } }))).toEqual({
      path: pathOf("a"), message: "floating IP 198.18.0.2 of NIC 0 is already used by host h2; pick a free address.",
    });
  });

  it("equal to an external's address", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "198.18.0.254" } }))).toEqual({
      path: pathOf("a"), message: "floating IP 198.18.0.254 of NIC 0 is already used by external internet; pick a free address.",
    });
  });

  it("used twice: reported at the second guest, naming the first", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "198.18.0.100" }, b: { segment: "web", floatingIp: "198.18.0.100" } }))).toEqual({
      path: pathOf("b"), message: "floating IP 198.18.0.100 of NIC 0 is already used by lab/a; pick a free address.",
    });
  });

  it("IPv6", () => {
    expect(theIssue(lab({ a: { segment: "web", floatingIp: "2001:db8::5" } }))).toEqual({
      path: pathOf("a"), message: "floating IP 2001:db8::5 of NIC 0 must be IPv4 (IPv6 needs no NAT: route the subnet instead).",
    });
  });

  it("a free fabric address is accepted and kept on the NIC", () => {
    const ok = resolveOk(lab({ a: { segment: "web", floatingIp: "198.18.0.100" } }));
    expect(ok.guests[0].nics[0].floatingIp?.toString()).toBe("198.18.0.100");
  });
});
