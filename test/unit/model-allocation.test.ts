import { resolveLab } from "../../lib/model";
import { demoSpec, emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";

describe("resolveLab allocation", () => {
  it("resolves the demo lab with no issues", () => {
    const r = resolveLab(demoSpec());
    expect(r.issues).toEqual([]);
    expect(r.lab?.name).toBe("demo");
  });

  it("derives the prefix from the lab name: up to 6 characters without '-'", () => {
    expect(resolveOk(emulatedLab({ name: "my-tenant-lab" })).prefix).toBe("mytena");
    expect(resolveOk(emulatedLab({ name: "my-tenant-lab", prefix: "mt" })).prefix).toBe("mt");
  });

  it("gives emulated hosts consecutive fabric addresses from .1, and names their namespaces", () => {
    const lab = resolveOk(emulatedLab({ name: "demo", hosts: [host("h1"), host("h2")] }));
    expect(lab.hosts.map((h) => h.underlay.toString())).toEqual(["198.18.0.1", "198.18.0.2"]);
    expect(lab.hosts.map((h) => h.netns)).toEqual(["demo-h1", "demo-h2"]);
    expect(lab.hosts.map((h) => h.fabricPort)).toEqual(["demof-h1", "demof-h2"]);
    expect(lab.fabric).toEqual({ netns: "demo-fabric", cidr: expect.objectContaining({ prefixLength: 24 }) });
  });

  it("allocates VNIs from 1000 in segment order", () => {
    const lab = resolveOk(emulatedLab({
      segments: [segment("a", "10.1.0.0/24"), segment("b", "10.2.0.0/24"), segment("c", "10.3.0.0/24")],
    }));
    expect(lab.segments.map((s) => s.vni)).toEqual([1000, 1001, 1002]);
  });

  it("skips VNIs given explicitly, also to segments declared later", () => {
    const lab = resolveOk(emulatedLab({
      segments: [segment("a", "10.1.0.0/24"), segment("b", "10.2.0.0/24", { vni: 1000 }), segment("c", "10.3.0.0/24"), segment("d", "10.4.0.0/24", { vni: 1002 })],
    }));
    expect(Object.fromEntries(lab.segments.map((s) => [s.name, s.vni]))).toEqual({ a: 1001, b: 1000, c: 1003, d: 1002 });
  });

  it("allocates guest addresses from .10 and skips static ones, whatever the declaration order", () => {
    const lab = resolveOk(emulatedLab({
      hosts: [host("h1")],
      segments: [segment("blue", "10.10.0.0/24")],
      guests: [
        guest("g1", "h1", [{ segment: "blue" }]),
        guest("g2", "h1", [{ segment: "blue", address: "10.10.0.10" }]),
        guest("g3", "h1", [{ segment: "blue" }]),
        guest("g4", "h1", [{ segment: "blue", address: "10.10.0.12" }]),
      ],
    }));
    const addr = Object.fromEntries(lab.guests.map((g) => [g.name, g.nics[0].address.toString()]));
    expect(addr).toEqual({ g1: "10.10.0.11", g2: "10.10.0.10", g3: "10.10.0.13", g4: "10.10.0.12" });
    expect(lab.guests.every((g) => g.nics[0].prefixLength === 24)).toBe(true);
  });

  it("allocates IPv6 guest addresses from ::a", () => {
    const lab = resolveOk(emulatedLab({
      hosts: [host("h1")], segments: [segment("v6", "fd00:10::/64")], guests: [guest("g1", "h1", [{ segment: "v6" }])],
    }));
    expect(lab.guests[0].nics[0].address.toString()).toBe("fd00:10::a");
    expect(lab.guests[0].nics[0].prefixLength).toBe(64);
  });

  it("gives a segment MTU 1450 over the emulated (IPv4) underlay", () => {
    const lab = resolveOk(emulatedLab({ segments: [segment("blue", "10.10.0.0/24")] }));
    expect(lab.segments[0].mtu).toBe(1450);
  });

  it("gives a segment MTU 1430 over an IPv6 underlay", () => {
    const lab = resolveOk(hostsLab({
      hosts: [sshHost("h1", "2001:db8::10"), sshHost("h2", "2001:db8::11")],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h1", "h2"] })],
    }));
    expect(lab.segments[0].mtu).toBe(1430);
  });

  it("subtracts the overhead from a larger underlay MTU", () => {
    const lab = resolveOk(emulatedLab({ segments: [segment("jumbo", "10.10.0.0/24", { underlayMtu: 9000 })] }));
    expect(lab.segments[0].mtu).toBe(8950);
  });

  it("names bridge and VXLAN device after prefix and segment", () => {
    const lab = resolveOk(emulatedLab({ name: "demo", segments: [segment("blue", "10.10.0.0/24")] }));
    expect(lab.segments[0]).toMatchObject({ bridge: "demob-blue", overlayDev: "demov-blue", vni: 1000 });
  });

  it("spans a segment over its explicit hosts and its guests' hosts, sorted", () => {
    const lab = resolveOk(emulatedLab({
      hosts: [host("h3"), host("h1"), host("h2"), host("h4")],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h3"] })],
      guests: [guest("g2", "h2", [{ segment: "blue" }]), guest("g1", "h1", [{ segment: "blue" }])],
    }));
    expect(lab.segments[0].hosts).toEqual(["h1", "h2", "h3"]);
  });

  it("derives stable, distinct 52:54:00 MACs per NIC, and keeps a given one", () => {
    const spec = emulatedLab({
      hosts: [host("h1")],
      segments: [segment("a", "10.1.0.0/24"), segment("b", "10.2.0.0/24")],
      guests: [guest("g1", "h1", [{ segment: "a" }, { segment: "b" }]), guest("g2", "h1", [{ segment: "a", mac: "02:00:00:00:00:01" }])],
    });
    const first = resolveOk(spec);
    const macs = first.guests.flatMap((g) => g.nics.map((n) => n.mac.toString()));
    expect(macs[0]).toMatch(/^52:54:00:/);
    expect(macs[1]).toMatch(/^52:54:00:/);
    expect(macs[0]).not.toBe(macs[1]);
    expect(macs[2]).toBe("02:00:00:00:00:01");
    expect(resolveOk(spec).guests.flatMap((g) => g.nics.map((n) => n.mac.toString()))).toEqual(macs);
  });

  it("names guest NIC devices eth<i> inside and <prefix>t-<guest>-<i> on the host", () => {
    const lab = resolveOk(emulatedLab({
      name: "demo", hosts: [host("h1")], segments: [segment("a", "10.1.0.0/24")],
      guests: [guest("web", "h1", [{ segment: "a" }, { segment: "a" }])],
    }));
    expect(lab.guests[0].nics.map((n) => [n.guestDev, n.hostDev])).toEqual([["eth0", "demot-web-0"], ["eth1", "demot-web-1"]]);
    expect(lab.guests[0].netns).toBe("demo-web");
  });

  it("derives libvirt and Docker addresses from an SSH target, with a non-default port", () => {
    const lab = resolveOk(hostsLab({
      hosts: [
        sshHost("h1", "192.0.2.10"),
        sshHost("h2", "192.0.2.11", { target: { kind: "ssh", host: "h2.example", user: "ops", port: 2222, privateKeyFile: "~/.ssh/k", sudo: true } }),
        host("h3", { target: { kind: "local" }, underlayAddress: "192.0.2.12" }),
      ],
    }));
    expect(lab.hosts.map((h) => [h.libvirtUri, h.dockerHost])).toEqual([
      ["qemu+ssh://root@192.0.2.10/system", "ssh://root@192.0.2.10"],
      ["qemu+ssh://ops@h2.example:2222/system", "ssh://ops@h2.example:2222"],
      ["qemu:///system", "unix:///var/run/docker.sock"],
    ]);
    expect(lab.hosts.map((h) => h.underlay.toString())).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(lab.hosts.every((h) => h.netns === undefined)).toBe(true);
    expect(lab.fabric).toBeUndefined();
  });
});
