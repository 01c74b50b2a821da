import { LOCAL_VLAN_MAX } from "../../lib/model";
import { emulatedLab, host, pathOf, resolveOk, segment, theIssue } from "./support/lab-specs";

/**
 * An integration bridge tags each network of a host with a local VLAN, so a host carries at most
 * 4,094 networks of its cluster: the 4,095th is refused at synth, naming the network and the limit.
 */
function clusterLab(networks: number) {
  return emulatedLab({
    hosts: [host("h1"), host("h2")],
    clusters: [{ name: "sdn", path: pathOf("sdn"), hosts: ["h1", "h2"] }],
    segments: Array.from({ length: networks }, (_, i) => segment(`n${i}`, `10.${i >> 8}.${i & 255}.0/24`, { cluster: "sdn", hosts: ["h1", "h2"] })),
  });
}

describe("overlay clusters: local VLAN tags per host", () => {
  it(`takes ${LOCAL_VLAN_MAX.toLocaleString("en")} networks on a host, each with its own tag`, () => {
    const lab = resolveOk(clusterLab(LOCAL_VLAN_MAX));
    const tags = new Set(lab.segments.map((s) => s.localVlans!.h1));
    expect(tags.size).toBe(LOCAL_VLAN_MAX);
    expect(Math.max(...tags)).toBe(LOCAL_VLAN_MAX);
  });

  it("refuses one more, naming the network, the hosts and the limit", () => {
    const issue = theIssue(clusterLab(LOCAL_VLAN_MAX + 1));
    expect(issue.path).toBe(pathOf(`n${LOCAL_VLAN_MAX}`));
    expect(issue.message).toBe("hosts 'h1', 'h2' carry more than 4,094 networks of cluster 'sdn', the local VLAN tags of an integration bridge; spread the networks over more hosts.");
  });
});

describe("overlay clusters: tunnel addresses on the emulated fabric", () => {
  const lab = (hosts: string[], fabricCidr = "198.18.0.0/24", externals: string[] = []) => emulatedLab({
    backend: { kind: "emulated", fabricCidr },
    hosts: hosts.map((h) => host(h)),
    externals: externals.map((e) => ({ name: e, path: pathOf(e) })),
    clusters: [{ name: "sdn", path: pathOf("sdn"), hosts }],
    segments: [segment("net", "10.0.0.0/24", { cluster: "sdn", hosts })],
  });
  const tunnels = (l: ReturnType<typeof resolveOk>) => Object.fromEntries(l.hosts.map((h) => [h.name, h.tunnelEndpoint!.address.toString()]));

  it("stay where they are when a host joins (from the middle of the fabric, by the host's place in the lab)", () => {
    const two = tunnels(resolveOk(lab(["h1", "h2"])));
    const three = tunnels(resolveOk(lab(["h1", "h2", "h3"])));
    expect(two).toEqual({ h1: "198.18.0.128", h2: "198.18.0.129" });
    expect(three).toEqual({ ...two, h3: "198.18.0.130" });
    // And never an underlay's.
    const l = resolveOk(lab(["h1", "h2", "h3"]));
    expect(l.hosts.map((h) => h.underlay.toString())).not.toContain("198.18.0.128");
  });

  it("refuses a fabric with no room between the hosts and the externals, saying how to fix it", () => {
    // A /28 holds 14: hosts from .1, tunnel addresses from .8, externals from .14 down. Five hosts
    // and three externals are 13 addresses, but h5's tunnel address (.12) is the third external's.
    expect(tunnels(resolveOk(lab(["h1", "h2", "h3", "h4", "h5"], "198.18.0.0/28", ["e1", "e2"])))).toMatchObject({ h5: "198.18.0.12" });
    const issue = theIssue(lab(["h1", "h2", "h3", "h4", "h5"], "198.18.0.0/28", ["e1", "e2", "e3"]));
    expect(issue.message).toBe("fabric 198.18.0.0/28 has no room for the tunnel address of host 'h5' (from the middle of the fabric up, between 5 hosts from the bottom and 3 externals from the top); give the lab a larger fabricCidr, e.g. a /27.");
  });
});
