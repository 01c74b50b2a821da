import { linkLocal } from "../../lib/render";
import { synthJson } from "../support/labs";
import { realLab, SSH_KEY, VM_IMAGE } from "./support/real-lab";
import { hooksByStage, resourcesOf, theResource } from "./support/terraform-json";

describe("a VM on a real host becomes libvirt resources", () => {
  let mac = "";
  const json = synthJson((s) => {
    const lab = realLab(s);
    mac = lab.resolve().lab!.guests.find((g) => g.name === "vm1")!.nics[0].mac.toString();
  });
  const volumes = Object.entries<any>(resourcesOf(json, "libvirt_volume"));
  const base = volumes.find(([, v]) => v.source !== undefined)!;
  const disk = volumes.find(([, v]) => v.base_volume_id !== undefined)!;
  const seed = theResource(json, "libvirt_cloudinit_disk");
  const domain = theResource(json, "libvirt_domain");
  const h1Provider = "libvirt.libvirt_h1";

  it("a libvirt provider per host with VMs, aliased by host, over SSH as the target's user", () => {
    expect(json.provider.libvirt).toEqual([{ alias: "libvirt_h1", uri: "qemu+ssh://root@192.0.2.10/system" }]);
  });

  it("pins the libvirt provider to 0.8.3", () => {
    expect(json.terraform.required_providers.libvirt).toEqual({ source: "dmacvicar/libvirt", version: "0.8.3" });
  });

  it("a base volume from the image and a disk on top of it", () => {
    expect(volumes).toHaveLength(2);
    expect(base[1]).toEqual({ provider: h1Provider, name: "lab-vm1-base.qcow2", pool: "default", source: VM_IMAGE, format: "qcow2" });
    expect(disk[1]).toEqual({
      provider: h1Provider, name: "lab-vm1.qcow2", pool: "default", format: "qcow2",
      base_volume_id: `\${libvirt_volume.${base[0]}.id}`,
    });
  });

  it("cloud-init user data with hostname, user and key", () => {
    expect(seed.body.provider).toBe(h1Provider);
    const user: string = seed.body.user_data;
    expect(user.split("\n")[0]).toBe("#cloud-config");
    expect(user).toContain("hostname: vm1\n");
    expect(user).toContain("  - name: ops\n");
    expect(user).toContain(`    ssh_authorized_keys:\n      - ${JSON.stringify(SSH_KEY)}\n`);
  });

  it("cloud-init network config with the static address and MTU, matched by MAC; the link-local address the lab's filters name, no RA", () => {
    expect(seed.body.network_config).toBe(
      `version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: "${mac}"\n    set-name: eth0\n    addresses:\n      - 10.20.0.21/24\n      - "${linkLocal(mac)}/64"\n` +
      "    link-local: []\n    accept-ra: false\n    mtu: 1450\n",
    );
  });

  it("a domain on the segment's bridge with the NIC's MAC, the disk, and the cloud-init seed", () => {
    expect(domain.body).toMatchObject({
      provider: h1Provider, name: "lab-vm1", memory: 1024, vcpu: 2,
      cloudinit: `\${libvirt_cloudinit_disk.${seed.name}.id}`,
      disk: [{ volume_id: `\${libvirt_volume.${disk[0]}.id}` }],
      network_interface: [{ bridge: "labb-blue", mac }],
    });
    expect(mac).toMatch(/^52:54:00:/);
  });

  it("the domain waits for the host's network hook, which builds the bridge, and its rules (the host guard)", () => {
    const hooks = hooksByStage(json);
    expect(domain.body.depends_on).toEqual([`terraform_data.${hooks["network/h1"].name}`, `terraform_data.${hooks["firewall/h1"].name}`]);
  });
});
