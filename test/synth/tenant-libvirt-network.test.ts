import { ResolvedLab } from "../../lib/model";
import { synthJson } from "../support/labs";
import { tenantVmLab } from "./support/tenant-labs";
import { hooksByStage, resourcesOf } from "./support/terraform-json";

/**
 * VMs on tenant networks (tenantVmLab): nat networks reach the domain through a libvirt network in
 * bridge mode around the lab's bridge; isolated and routed ones attach to the bridge directly.
 */
describe("VMs on tenant networks", () => {
  let resolved: ResolvedLab | undefined;
  const json = synthJson((s) => { resolved = tenantVmLab(s).resolve().lab; });
  const lab = resolved!;
  const macs = (guest: string) => lab.guests.find((g) => g.name === guest)!.nics.map((n) => n.mac.toString());
  const networks = Object.entries<any>(resourcesOf(json, "libvirt_network"));
  const networkNamed = (name: string) => networks.find(([, body]) => body.name === name)!;
  const byName = (type: string, suffix: string) => Object.values<any>(resourcesOf(json, type)).find((r) => r.name === `lab-${suffix}`);
  const domain = (vm: string) => byName("libvirt_domain", vm);
  const networkConfig = (vm: string) => byName("libvirt_cloudinit_disk", `${vm}-cloudinit.iso`).network_config as string;

  it("a libvirt network in bridge mode on the segment's bridge for each nat network a VM uses, and none for others", () => {
    expect(networks.map(([, body]) => body.name).sort()).toEqual(["lab-acme-dual", "lab-acme-web"]);
    expect(networkNamed("lab-acme-web")[1]).toEqual({
      provider: "libvirt.libvirt_h2", name: "lab-acme-web", mode: "bridge", bridge: "labb-acme-web", autostart: true,
      // The bridge is the network stage's; guests join it only once the host guard is in force.
      depends_on: [`terraform_data.${hooksByStage(json)["network/h2"].name}`, `terraform_data.${hooksByStage(json)["firewall/h2"].name}`],
    });
  });

  it("a NIC on a nat network uses the libvirt network's id; one on an isolated network uses the bridge", () => {
    expect(domain("vm1").network_interface).toEqual([
      { network_id: `\${libvirt_network.${networkNamed("lab-acme-web")[0]}.id}`, mac: macs("vm1")[0] },
      { bridge: "labb-acme-back", mac: macs("vm1")[1] },
    ]);
    expect(domain("vm2").network_interface).toEqual([{ bridge: "labb-acme-back", mac: macs("vm2")[0] }]);
  });

  it("a NIC on a routed network attaches to the bridge too", () => {
    expect(domain("vm3").network_interface).toEqual([{ bridge: "labb-acme-pub", mac: macs("vm3")[0] }]);
  });

  describe("cloud-init network config", () => {
    it("nat: a default route via the gateway", () => {
      expect(networkConfig("vm1")).toContain("  eth0:\n");
      expect(networkConfig("vm1")).toContain("    mtu: 1450\n    routes:\n      - to: default\n        via: 10.0.0.1\n  eth1:\n");
      expect(networkConfig("vm1").match(/routes:/g)).toHaveLength(1);
    });

    it("isolated: no route at all", () => {
      expect(networkConfig("vm2")).not.toContain("routes:");
      expect(networkConfig("vm2")).not.toContain("via:");
    });

    it("routed: a default route via the gateway", () => {
      expect(networkConfig("vm3")).toMatch(/ {4}routes:\n {6}- to: default\n {8}via: 10\.2\.0\.1\n$/);
    });

    it("dual stack: the IPv6 address and a ::/0 route via the IPv6 gateway", () => {
      expect(networkConfig("vm4")).toContain('      - 10.3.0.10/24\n      - "fd00:3::a/64"\n');
      expect(networkConfig("vm4")).toContain('      - to: default\n        via: 10.3.0.1\n      - to: "::/0"\n        via: "fd00:3::1"\n');
    });

    it("only the first NIC on a network with a gateway carries the default route", () => {
      const cfg = networkConfig("vm5");
      expect(cfg.match(/- to: default/g)).toHaveLength(1);
      const eth1 = cfg.slice(cfg.indexOf("  eth1:"), cfg.indexOf("  eth2:"));
      expect(eth1).toContain("        via: 10.2.0.1\n");
    });
  });

  it("VMs run only on h2, with no Docker resource", () => {
    expect(json.provider.libvirt).toEqual([{ alias: "libvirt_h2", uri: "qemu+ssh://root@192.0.2.11/system" }]);
    expect(json.resource.docker_container).toBeUndefined();
  });
});
