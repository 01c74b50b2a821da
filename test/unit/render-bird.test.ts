import { ResolvedLab, formatIssues } from "../../lib/model";
import { birdConfig } from "../../lib/render/bird";
import { podLab } from "../kernel/fixtures/pod-lab";

/** BIRD's configuration per Calico node: its sessions (full mesh or route reflectors) and what each takes in. */
const resolved = (backend: "calico" | "calico-rr"): ResolvedLab => {
  const r = podLab("bgp", backend).resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
};
const config = (lab: ResolvedLab, host: string) => birdConfig(lab, lab.podNetworks[0], lab.hosts.find((h) => h.name === host)!);
const sessions = (text: string) => text.split("\n").filter((l) => l.startsWith("protocol bgp "));

describe("BIRD configuration of a Calico node", () => {
  test("full mesh: a session to each other node, announcing its own block only, taking in exactly theirs", () => {
    const lab = resolved("calico");
    const h2 = config(lab, "h2");
    expect(sessions(h2)).toEqual([
      "protocol bgp n_h1 from node_to_node { neighbor 198.18.0.1 as 64512; }",
      "protocol bgp n_h3 from node_to_node { neighbor 198.18.0.3 as 64512; }",
    ]);
    expect(h2).toContain("protocol static blocks { ipv4; route 10.244.0.64/26 blackhole; }");
    expect(h2).toContain('filter announce { if proto = "blocks" then accept; reject; }');
    expect(h2.split("\n").filter((l) => l.includes("bgp_next_hop"))).toEqual([
      "    if net = 10.244.0.0/26 && bgp_next_hop = 198.18.0.1 then accept;",
      "    if net = 10.244.0.128/26 && bgp_next_hop = 198.18.0.3 then accept;",
    ]);
    expect(h2).toContain("router id 198.18.0.2;");
  });

  test("route reflector: it peers with every client and passes on what it learns; a client peers with it alone", () => {
    const lab = resolved("calico-rr");
    expect(sessions(config(lab, "h1"))).toEqual([
      "protocol bgp n_h2 from node_to_node { neighbor 198.18.0.2 as 64512; rr client; }",
      "protocol bgp n_h3 from node_to_node { neighbor 198.18.0.3 as 64512; rr client; }",
    ]);
    expect(config(lab, "h1")).toContain('filter announce { if proto = "blocks" || source = RTS_BGP then accept; reject; }');
    expect(sessions(config(lab, "h3"))).toEqual(["protocol bgp n_h1 from node_to_node { neighbor 198.18.0.1 as 64512; }"]);
    // A client still takes in every other node's block, each with its own node as next hop (reflected unchanged).
    expect(config(lab, "h3")).toContain("if net = 10.244.0.64/26 && bgp_next_hop = 198.18.0.2 then accept;");
  });

  test("the same lab renders the same configuration", () => {
    expect(config(resolved("calico"), "h1")).toBe(config(resolved("calico"), "h1"));
  });
});
