import { synthJson } from "../support/labs";
import { PROVIDER_META_KEYS, RESOURCE_META_KEYS, checkAgainstSchema, loadProviderSchema } from "./support/provider-schema";
import { tenantVmLab } from "./support/tenant-labs";

const schema = loadProviderSchema("provider-schemas/dmacvicar-libvirt-0.8.3.json", "registry.terraform.io/dmacvicar/libvirt");

describe("libvirt resources of a tenant lab (with libvirt networks) match the provider's 0.8.3 schema", () => {
  const json = synthJson((s) => { tenantVmLab(s); });
  const libvirtTypes = Object.keys(json.resource).filter((t) => t.startsWith("libvirt_"));

  it("the lab synthesizes libvirt_network besides domains, volumes and cloud-init disks", () => {
    expect(libvirtTypes.sort()).toEqual(["libvirt_cloudinit_disk", "libvirt_domain", "libvirt_network", "libvirt_volume"]);
  });

  it("every libvirt resource uses only schema fields, sets no read-only one, and has every required one", () => {
    const problems: string[] = [];
    for (const type of libvirtTypes) {
      const block = schema.resources[type];
      if (!block) {
        problems.push(`${type} is not a resource of the provider`);
        continue;
      }
      for (const [name, body] of Object.entries<any>(json.resource[type])) {
        problems.push(...checkAgainstSchema(body, block, `${type}.${name}`, RESOURCE_META_KEYS));
      }
    }
    expect(problems).toEqual([]);
  });

  it("every libvirt provider block matches the provider schema", () => {
    const problems = (json.provider.libvirt as any[]).flatMap((p, i) => checkAgainstSchema(p, schema.provider, `provider.libvirt[${i}]`, PROVIDER_META_KEYS));
    expect(problems).toEqual([]);
  });

  it("the schema check would catch a wrong libvirt_network field", () => {
    expect(checkAgainstSchema({ name: "n", mode: "bridge", bridge: "b", vlan: 5 }, schema.resources.libvirt_network, "n")).toEqual(["n.vlan is not in the schema"]);
  });
});
