import { synthJson } from "../support/labs";
import { checkAgainstSchema, loadProviderSchema, providerProblems, resourceProblems } from "./support/provider-schema";
import { tenantVmLab } from "./support/tenant-labs";

const schema = loadProviderSchema("provider-schemas/dmacvicar-libvirt-0.8.3.json", "registry.terraform.io/dmacvicar/libvirt");

describe("libvirt resources of a tenant lab (with libvirt networks) match the provider's 0.8.3 schema", () => {
  const json = synthJson((s) => { tenantVmLab(s); });
  const libvirtTypes = Object.keys(json.resource).filter((t) => t.startsWith("libvirt_"));

  it("the lab synthesizes libvirt_network besides domains, volumes and cloud-init disks", () => {
    expect(libvirtTypes.sort()).toEqual(["libvirt_cloudinit_disk", "libvirt_domain", "libvirt_network", "libvirt_volume"]);
  });

  it("every libvirt resource uses only schema fields, sets no read-only one, and has every required one", () => {
    expect(resourceProblems(json, schema, libvirtTypes)).toEqual([]);
  });

  it("every libvirt provider block matches the provider schema", () => {
    expect(providerProblems(json, schema)).toEqual([]);
  });

  it("the schema check would catch a wrong libvirt_network field", () => {
    expect(checkAgainstSchema({ name: "n", mode: "bridge", bridge: "b", vlan: 5 }, schema.resources.libvirt_network, "n")).toEqual(["n.vlan is not in the schema"]);
  });
});
