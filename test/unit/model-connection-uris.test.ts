import { hostsLab, resolveOk, sshHost, sshTarget } from "./support/lab-specs";

describe("libvirt and Docker URIs derived from an SSH target", () => {
  it("use user, host and a non-default port", () => {
    const lab = resolveOk(hostsLab({ hosts: [sshHost("h1", "192.0.2.10", { target: sshTarget("192.0.2.10", { user: "ops", port: 2222 }) })] }));
    expect(lab.hosts[0].libvirtUri).toBe("qemu+ssh://ops@192.0.2.10:2222/system");
    expect(lab.hosts[0].dockerHost).toBe("ssh://ops@192.0.2.10:2222");
  });

  it("keep an explicit libvirtUri and dockerHost", () => {
    const lab = resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10", { libvirtUri: "qemu+tcp://192.0.2.10/system", dockerHost: "tcp://192.0.2.10:2376" })],
    }));
    expect(lab.hosts[0]).toMatchObject({ libvirtUri: "qemu+tcp://192.0.2.10/system", dockerHost: "tcp://192.0.2.10:2376" });
  });

  // Regression (fixed): lib/model/resolve.ts:107-115 builds `${user}@${host}` without brackets, so an IPv6 SSH host
  // gives 'qemu+ssh://root@2001:db8::11/system' and 'ssh://root@2001:db8::11' (RFC 3986 needs
  // '[2001:db8::11]'); with a port, 'ssh://root@2001:db8::11:2222' cannot even be read back.
  it("bracket an IPv6 SSH host in the URIs", () => {
    const lab = resolveOk(hostsLab({ hosts: [sshHost("h1", "2001:db8::11", { target: sshTarget("2001:db8::11", { port: 2222 }) })] }));
    expect(lab.hosts[0].libvirtUri).toBe("qemu+ssh://root@[2001:db8::11]:2222/system");
    expect(lab.hosts[0].dockerHost).toBe("ssh://root@[2001:db8::11]:2222");
  });
});
