import { Cidr, IpAddress } from "../net";
import { Inventory, InventoryCluster } from "../render/inventory";
import { Exec, OvsSwitch, bridgesOf, clustersOf, execFile } from "./ovs-switch";

type Network = InventoryCluster["networks"][number];
type Endpoint = Network["endpoints"][number];

export interface TraceOptions {
  readonly tcp?: number;
  readonly udp?: number;
}

/** Where a traced packet starts and the endpoint it is addressed to on the source's network. */
interface Path {
  readonly cluster: InventoryCluster;
  readonly network: Network;
  readonly source: Endpoint;
  /** The next hop on the network: the destination itself, or the router for an address beyond the network. */
  readonly hop: Endpoint;
  readonly address: string;
}

/**
 * `cloudnet trace <lab> <from> <to>`: asks the source host's switch what it does with a packet from
 * guest `from` to `to` (a guest or router of the same network, or any IPv4 address: beyond the
 * network, the packet is addressed to its router), with `ofproto/trace` on the integration bridge at
 * the guest's port. When it leaves through the tunnel to the host of the next hop (or, for a VLAN
 * network, on the fabric link), that host's switch is asked in turn, from there. Each bridge and
 * table step is named.
 */
export function traceReport(lab: Inventory, from: string, to: string, options: TraceOptions = {}, exec: Exec = execFile): string[] {
  const path = resolvePath(lab, from, to);
  const { cluster, network, source, hop } = path;
  const inner = innerFlow(path, options);
  const carried = network.vni !== undefined ? `VNI ${network.vni}` : `VLAN ${network.vlan}`;
  const out = [`${describe(path, options)}, on network ${network.name} (${carried}) of cluster ${cluster.name}`];

  if (hop.host === source.host) {
    return [...out, "", `${source.name} and ${hop.name} are both on ${source.host}, on network ${network.name}'s Linux bridge ${network.bridge}: ` +
      `the frame goes from one port of it to the other (security groups apply there) and never reaches Open vSwitch.`];
  }
  const first = hostOf(cluster, source.host);
  const text = new OvsSwitch(first.ovsRunDir, exec).trace(cluster.integrationBridge, `in_port=${network.ovsPort},${inner}`);
  out.push("", `== on ${source.host}, from ${source.name}'s network port ${network.ovsPort} into ${cluster.integrationBridge}`, ...annotate(text, cluster, source.host));
  const second = hostOf(cluster, hop.host);

  // Where it arrives on the next hop's host: the tunnel from this host, or (VLAN) the fabric link with the network's tag.
  let entry: { bridge: string; flow: string; header: string };
  if (network.vni !== undefined) {
    const tunnel = first.tunnelPorts[hop.host];
    if (!tunnel || !new RegExp(`output:"?${tunnel}"?(,|\\s|$)`, "m").test(text)) {
      return [...out, "", `The packet does not go into the tunnel to ${hop.host} (${tunnel ?? "none"}), where ${hop.name} is: see the steps above.`];
    }
    const inbound = second.tunnelPorts[source.host];
    entry = {
      bridge: cluster.tunnelBridge,
      flow: `in_port=${inbound},tun_id=0x${network.vni.toString(16)},tun_src=${first.tunnelAddress},tun_dst=${second.tunnelAddress},${inner}`,
      header: `== on ${hop.host}, from the tunnel ${inbound} (from ${source.host}) into ${cluster.tunnelBridge}`,
    };
  } else {
    const actions = /^Datapath actions: (.*)$/m.exec(text)?.[1] ?? "";
    if (!first.fabricLink || !second.providerBridge || !outputs(actions).includes(first.fabricLink)) {
      return [...out, "", `The packet does not leave ${source.host} on its fabric link, on its way to ${hop.host}, where ${hop.name} is: see the steps above.`];
    }
    entry = {
      bridge: second.providerBridge,
      flow: `in_port=${second.fabricLink},dl_vlan=${network.vlan},${inner}`,
      header: `== on ${hop.host}, from the fabric link ${second.fabricLink} (VLAN ${network.vlan}) into ${second.providerBridge}`,
    };
  }
  const text2 = new OvsSwitch(second.ovsRunDir, exec).trace(entry.bridge, entry.flow);
  out.push("", entry.header, ...annotate(text2, cluster, hop.host));
  return [...out, "", delivery(text2, path, hop.host)];
}

function resolvePath(lab: Inventory, from: string, to: string): Path {
  const clusters = clustersOf(lab);
  const nics = clusters.flatMap((cluster) => cluster.networks.flatMap((network) =>
    network.endpoints.filter((e) => e.name === from).map((source) => ({ cluster, network, source }))));
  if (nics.length === 0) {
    const names = [...new Set(clusters.flatMap((c) => c.networks.flatMap((n) => n.endpoints.map((e) => e.name))))].sort();
    throw new Error(`'${from}' has no port on a network of an overlay cluster of lab '${lab.lab}' (cloudnet trace follows Open vSwitch); those that do: ${names.join(", ")}.`);
  }
  // `to` names an endpoint on one of the source's networks: straight to it.
  for (const n of nics) {
    const hop = n.network.endpoints.find((e) => e.name === to);
    if (hop) {
      if (hop.ips.length === 0) throw new Error(`'${to}' has no IPv4 address on network ${n.network.name}: trace it by address.`);
      return { ...n, hop, address: hop.ips[0] };
    }
  }
  const address = addressOf(lab, to);
  const ip = IpAddress.parse(address);
  const local = nics.find((n) => Cidr.parse(n.network.cidr).contains(ip));
  if (local && lab.nodes.some((n) => n.name === to)) {
    // A node of another network whose address is in this one's subnet: the packet would stay here, to whoever has that address.
    const owner = local.network.endpoints.find((e) => e.ips.includes(address));
    throw new Error(`'${to}' is not on ${from}'s network ${local.network.name}, whose subnet holds its address ${address}` +
      `${owner ? ` (there ${owner.name} has it: trace ${address} to follow that packet)` : ""}; name a guest or router of ${local.network.name}, or an address.`);
  }
  if (local) {
    const hop = local.network.endpoints.find((e) => e.ips.includes(address));
    if (!hop) throw new Error(`nothing on network ${local.network.name} has ${address}: ${from}'s ARP for it would go unanswered.`);
    return { ...local, hop, address };
  }
  const routed = nics.find((n) => n.network.endpoints.some((e) => e.name === `router.${n.network.name}`));
  if (!routed) throw new Error(`${address} is beyond ${from}'s network${nics.length > 1 ? "s" : ""} (${nics.map((n) => n.network.cidr).join(", ")}), which ha${nics.length > 1 ? "ve" : "s"} no router.`);
  return { ...routed, hop: routed.network.endpoints.find((e) => e.name === `router.${routed.network.name}`)!, address };
}

/** `to` as an IPv4 address: as given, or the first address of the lab node of that name. */
function addressOf(lab: Inventory, to: string): string {
  const node = lab.nodes.find((n) => n.name === to);
  if (node) {
    const v4 = node.addresses.map((a) => a.split("/")[0]).find((a) => IpAddress.parse(a).family === 4);
    if (!v4) throw new Error(`'${to}' has no IPv4 address to trace to.`);
    return v4;
  }
  let ip: IpAddress;
  try {
    ip = IpAddress.parse(to);
  } catch {
    throw new Error(`'${to}' is neither a node of lab '${lab.lab}' (${lab.nodes.map((n) => n.name).join(", ")}) nor an IP address.`);
  }
  if (ip.family !== 4) throw new Error(`${to}: cloudnet trace follows IPv4 only.`);
  return ip.toString();
}

function innerFlow(path: Path, options: TraceOptions): string {
  const l2 = `dl_src=${path.source.mac},dl_dst=${path.hop.mac}`;
  const l3 = `nw_src=${path.source.ips[0] ?? "0.0.0.0"},nw_dst=${path.address},nw_ttl=64`;
  if (options.tcp !== undefined) return `${l2},tcp,${l3},tcp_src=40000,tcp_dst=${options.tcp},tcp_flags=0x002`;
  if (options.udp !== undefined) return `${l2},udp,${l3},udp_src=40000,udp_dst=${options.udp}`;
  return `${l2},icmp,${l3},icmp_type=8,icmp_code=0`;
}

function describe(path: Path, options: TraceOptions): string {
  const what = options.tcp !== undefined ? `TCP SYN to port ${options.tcp}` : options.udp !== undefined ? `UDP to port ${options.udp}` : "ICMP echo request";
  const to = path.hop.ips.includes(path.address) ? `(${path.hop.name} on ${path.hop.host})` : `via ${path.hop.name} on ${path.hop.host}`;
  return `${what} from ${path.source.name} (${path.source.ips[0] ?? "no IPv4"}, ${path.source.host}) to ${path.address} ${to}`;
}

function hostOf(cluster: InventoryCluster, host: string): InventoryCluster["hosts"][number] {
  return cluster.hosts.find((h) => h.name === host)!;
}

/** The trace with each bridge's role and a line naming the table before each step. */
function annotate(text: string, cluster: InventoryCluster, host: string): string[] {
  const bridges = bridgesOf(cluster, host);
  const names = new Map(bridges.map((b) => [b.bridge, b.tables]));
  const roles = new Map(bridges.map((b) => [b.bridge, b.role]));
  let tables: Map<number, string> | undefined;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const bridge = /^bridge\("([^"]+)"\)/.exec(line);
    if (bridge) tables = names.get(bridge[1]);
    const step = /^\s*(\d+)\. /.exec(line);
    if (step && tables) out.push(`    # table ${step[1]}: ${tables.get(Number(step[1])) ?? "(not a table of the lab's pipeline)"}`);
    out.push(bridge && roles.has(bridge[1]) ? `${line}  ${roles.get(bridge[1])}` : line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
}

/** Datapath actions without arguments; any other bare word in the list is a port. */
const BARE_ACTIONS = new Set(["drop", "pop_vlan", "pop_eth", "pop_nsh", "ct_clear"]);

/** The ports a datapath action list outputs to (`tnl_push(...),tun0` → tun0). */
function outputs(actions: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let item = "";
  for (const ch of `${actions},`) {
    if (ch === "," && depth === 0) {
      items.push(item.trim());
      item = "";
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    item += ch;
  }
  return items.filter((a) => a && !a.includes("(") && !BARE_ACTIONS.has(a)).map((a) => a.replace(/^"|"$/g, ""));
}

/** What the last switch did with the packet, in a sentence. */
function delivery(text: string, path: Path, host: string): string {
  const actions = /^Datapath actions: (.*)$/m.exec(text)?.[1]?.trim() ?? "";
  if (actions === "drop" || actions === "") return `Dropped on ${host}: see the last step above.`;
  const out = outputs(actions);
  if (out.includes(path.network.ovsPort)) {
    return `Delivered on ${host} to ${path.network.ovsPort}, the port of network ${path.network.name}'s Linux bridge ${path.network.bridge}, ` +
      `where security groups apply (iptables, not traced here); from there to ${path.hop.name}.`;
  }
  return `Sent on ${host} out of ${out.join(", ") || actions}, not to ${path.network.name}'s port ${path.network.ovsPort}.`;
}
