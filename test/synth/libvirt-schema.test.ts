import { synthJson } from "../support/labs";
import { RESOURCE_META_KEYS, checkAgainstSchema, loadProviderSchema, providerProblems, resourceProblems } from "./support/provider-schema";
import { realLab } from "./support/real-lab";

const schema = loadProviderSchema("provider-schemas/dmacvicar-libvirt-0.8.3.json", "registry.terraform.io/dmacvicar/libvirt");

describe("libvirt resources match the provider's 0.8.3 schema", () => {
  const json = synthJson((s) => { realLab(s); });
  const libvirtTypes = Object.keys(json.resource).filter((t) => t.startsWith("libvirt_"));

  it("the lab synthesizes the libvirt resource types this test walks", () => {
    expect(libvirtTypes.sort()).toEqual(["libvirt_cloudinit_disk", "libvirt_domain", "libvirt_volume"]);
    expect(json.provider.libvirt.length).toBeGreaterThan(0);
  });

  it("every libvirt resource uses only schema fields, sets no read-only one, and has every required one", () => {
    expect(resourceProblems(json, schema, libvirtTypes)).toEqual([]);
  });

  it("every libvirt provider block matches the provider schema", () => {
    expect(providerProblems(json, schema)).toEqual([]);
  });
});

describe("the schema check itself", () => {
  const domain = schema.resources.libvirt_domain;

  it("flags an unknown field, also inside a nested block", () => {
    expect(checkAgainstSchema({ name: "x", colour: "red", network_interface: [{ bridge: "b", vlan: 5 }] }, domain, "d")).toEqual([
      "d.colour is not in the schema",
      "d.network_interface[0].vlan is not in the schema",
    ]);
  });

  it("flags a missing required attribute", () => {
    expect(checkAgainstSchema({ memory: 512 }, domain, "d")).toEqual(["d.name is required but missing"]);
  });

  it("flags a literal of the wrong type but lets references through", () => {
    expect(checkAgainstSchema({ name: "x", memory: "lots" }, domain, "d")).toEqual(["d.memory should be a number, is a string"]);
    expect(checkAgainstSchema({ name: "x", memory: "${var.memory}" }, domain, "d")).toEqual([]);
  });

  it("flags a block given as a plain value and too many blocks (one object is one block, as Terraform's JSON allows)", () => {
    expect(checkAgainstSchema({ name: "x", disk: { volume_id: "v" } }, domain, "d")).toEqual([]);
    expect(checkAgainstSchema({ name: "x", disk: { size: 1 } }, domain, "d")).toEqual(["d.disk[0].size is not in the schema"]);
    expect(checkAgainstSchema({ name: "x", cpu: [{ mode: "a" }, { mode: "b" }], disk: "v" }, domain, "d")).toEqual([
      "d.cpu has 2 block(s), allows at most 1",
      "d.disk must be a list of blocks",
    ]);
  });

  it("ignores cdktf meta keys only where they are allowed", () => {
    expect(checkAgainstSchema({ name: "x", depends_on: [], provider: "libvirt.a" }, domain, "d", RESOURCE_META_KEYS)).toEqual([]);
    expect(checkAgainstSchema({ name: "x", depends_on: [] }, domain, "d")).toEqual(["d.depends_on is not in the schema"]);
  });
});
