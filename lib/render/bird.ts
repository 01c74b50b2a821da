import { Host, PodNetwork, ResolvedLab } from "../model";

/** Where a node's BIRD keeps its files: one BIRD per lab and node (it speaks BGP on port 179). */
export const BIRD_DIR = "/run/cloudnet/bird";

/** A BIRD symbol for a node (names hold a-z, 0-9 and '-', which BIRD does not take). */
const peerName = (host: string) => `n_${host.replace(/-/g, "_")}`;

/**
 * BIRD's configuration on one node of a Calico network, as Calico's templates have it: the node's
 * block as a blackhole (more specific pod routes win; an unused address of the block is dropped, not
 * sent back out), exported over iBGP to a full mesh of the other nodes or to the route reflectors;
 * learned blocks go into the kernel, next hop the owning node. Each session takes only what the lab
 * knows: the other nodes' blocks, each with its own node as next hop, so that a node announcing
 * someone else's block (or a default route) is ignored.
 */
export function birdConfig(lab: ResolvedLab, network: PodNetwork, host: Host): string {
  const b = network.backend;
  if (b.kind !== "calico") throw new Error(`pod network ${network.name} is not Calico's`);
  const underlay = (name: string) => lab.hosts.find((h) => h.name === name)!.underlay.toString();
  const self = network.nodes.find((n) => n.host === host.name)!;
  const others = network.nodes.filter((n) => n.host !== host.name);
  const reflectors = b.routeReflectors;
  const reflector = reflectors.includes(host.name);
  // Full mesh: everyone. With reflectors: a reflector peers with every node, a client with the reflectors.
  const peers = reflectors.length === 0 || reflector ? others : others.filter((n) => reflectors.includes(n.host));
  const known = others.map((n) => `    if net = ${n.subnet} && bgp_next_hop = ${underlay(n.host)} then accept;`);
  return [
    `# lab ${lab.prefix}, Calico pod network ${network.name} (${network.cidr}) on ${host.name}: written by cloudnet`,
    `router id ${host.underlay};`,
    "protocol device { scan time 10; }",
    // Learned routes (and the node's blackhole) into the kernel; nothing from it.
    "protocol kernel { ipv4 { import none; export all; }; merge paths on; }",
    `protocol static blocks { ipv4; route ${self.subnet} blackhole; }`,
    "filter known_blocks {",
    ...known,
    "    reject;",
    "}",
    // A reflector passes on what it learned; everyone else announces its own block only.
    `filter announce { if proto = "blocks"${reflector ? " || source = RTS_BGP" : ""} then accept; reject; }`,
    "template bgp node_to_node {",
    `    local ${host.underlay} as ${b.asNumber};`,
    "    direct;",
    "    ipv4 { import filter known_blocks; export filter announce; gateway direct; };",
    "}",
    ...peers.map((n) => {
      const client = reflector && !reflectors.includes(n.host) ? " rr client;" : "";
      return `protocol bgp ${peerName(n.host)} from node_to_node { neighbor ${underlay(n.host)} as ${b.asNumber};${client} }`;
    }),
    "",
  ].join("\n");
}
