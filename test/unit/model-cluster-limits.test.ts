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
