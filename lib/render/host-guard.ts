import { sh, shortHash } from "../net";
import { Host, ResolvedLab, Segment } from "../model";
import { Ruleset } from "./firewall";
import { gatewayForwardRules } from "./routing-rules";
import { portMatch } from "./security";
import { VXLAN_PORT } from "./segments";

/**
 * One conntrack zone per segment (Neutron's zone per network): two tenants' isolated segments may
 * share a subnet on a host, and their connections must never meet in one table. Zones are stable
 * per lab and segment name (probing past a collision within the lab), in 1-65535.
 */
export function conntrackZones(lab: ResolvedLab): Map<string, number> {
  const zones = new Map<string, number>();
  const used = new Set<number>();
  for (const s of [...lab.segments].sort((a, b) => a.name.localeCompare(b.name))) {
    let zone = 1 + (parseInt(shortHash(`${lab.prefix}/${s.name}`, 8), 16) % 65535);
    while (used.has(zone)) zone = (zone % 65535) + 1;
    used.add(zone);
    zones.set(s.name, zone);
  }
  return zones;
}

/**
 * The host guard: what the lab lets through a host, whatever the host's own policies (Docker sets
 * FORWARD to DROP, firewalls set INPUT to DROP), accepted and dropped explicitly in the lab's chains.
 * Each hook sits first in its built-in chain, re-asserted on every apply (`CN-<lab>-FWD` in FORWARD,
 * `CN-<lab>-IN` in INPUT, `CN-<lab>-ZONE` in raw PREROUTING); traffic that is not the lab's returns
 * from them to the host's rules untouched.
 * - raw: frames of each lab bridge get their segment's conntrack zone.
 * - FORWARD: bridged frames of accepted connections are accepted on their own bridge at once, the
 *   others pass the security groups (`sg`) first;
 *   a gateway's routers get only the uplink and their own tenant (see gatewayForwardRules).
 * - INPUT: tunnel packets are accepted only from the lab's endpoints of that segment (VXLAN, by VNI)
 *   and dropped from anywhere else; guests reach no address of the host, neither through a bridge
 *   nor through their router, except the ports a segment's `hostAccess` names.
 */
export function hostGuard(lab: ResolvedLab, host: Host, rs: Ruleset, sg: string | undefined): void {
  const segments = lab.segments.filter((s) => s.hosts.includes(host.name));
  const gatewayed = segments.filter((s) => s.gateway?.host === host.name);
  if (segments.length === 0) return;
  const zones = conntrackZones(lab);
  const zone = rs.chain("raw", "ZONE");
  rs.hook("raw", "PREROUTING", zone);
  for (const s of segments) rs.rule(zone, sh`-i ${s.bridge} -m physdev --physdev-is-in -j CT --zone ${zones.get(s.name)!}`);

  const fwd = rs.chain("filter", "FWD");
  rs.hook("filter", "FORWARD", fwd);
  if (sg) {
    // Replies and packets of accepted connections skip the security groups' chains (the verdict they
    // would reach anyway): the bridge-family port guard has checked their MAC and address already.
    for (const s of segments) rs.rule(fwd, sh`-i ${s.bridge} -o ${s.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    rs.rule(fwd, sh`-m physdev --physdev-is-bridged -j ${sg}`);
  }
  for (const s of segments) rs.rule(fwd, sh`-i ${s.bridge} -o ${s.bridge} -j ACCEPT`);
  if (rs.family === 4 && gatewayed.length > 0) {
    const tunnel = rs.chain("filter", "TUNNEL");
    // The lab's tunnel endpoints, wherever a guest's packet would be routed (or masqueraded) to them.
    for (const h of lab.hosts.filter((x) => x.underlay.family === 4)) {
      rs.rule(tunnel, sh`-d ${h.underlay.toString()}/32 -j DROP`);
      // An emulated cluster host's tunnels end on an address of their own (OVS's userspace datapath).
      if (h.tunnelEndpoint) rs.rule(tunnel, sh`-d ${h.tunnelEndpoint.address.toString()}/32 -j DROP`);
    }
    gatewayForwardRules(lab, host, rs, fwd, tunnel);
  }

  const input = rs.chain("filter", "IN");
  rs.hook("filter", "INPUT", input);
  if (host.underlay.family === rs.family) for (const s of segments) tunnelInput(lab, host, rs, input, s);
  for (const s of gatewayed) {
    const link = s.gateway!.router.hostLink;
    // The host may open connections to its guests; guests open none to the host unless declared.
    rs.rule(input, sh`-i ${link} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    if (rs.family === 4) {
      for (const p of s.hostAccess) rs.rule(input, [sh`-i ${link} -d ${host.underlay.toString()}/32`, portMatch(p), "-j ACCEPT"].filter((x) => x).join(" "));
    }
    rs.rule(input, sh`-i ${link} -j DROP`);
  }
  for (const s of segments) rs.rule(input, sh`-i ${s.bridge} -j DROP`);
}

/**
 * Tunnel packets of segment `s` reach the host only from the segment's other hosts: the VNI is read
 * from the VXLAN header (or the GRE key, for a GRE cluster's network), so one tenant's endpoint
 * cannot inject into another's segment, and nothing else on the fabric into any. (On emulated
 * cluster hosts OVS reads its tunnels off tun0 before these rules: its table 4 does the same there.)
 */
function tunnelInput(lab: ResolvedLab, host: Host, rs: Ruleset, chain: string, s: Segment): void {
  if (s.vni === undefined) return;
  const gre = lab.clusters.find((c) => c.name === s.cluster)?.tunnel === "gre";
  const id = `0x${s.vni.toString(16)}`;
  // Numbers only, in iptables-restore's own quotes (it knows no shell quoting). IPv4: the IP header's
  // length is in its first byte; IPv6: a fixed 40-byte header. VXLAN's VNI sits 12 bytes past it
  // (UDP, then the VXLAN header's second word, top 24 bits); GRE's key 4 bytes past it.
  const match = gre
    ? `-p gre -m u32 --u32 "${rs.family === 4 ? `0x0>>0x16&0x3c@0x4=${id}` : `0x2c=${id}`}"`
    : `-p udp -m udp --dport ${VXLAN_PORT} -m u32 --u32 "${rs.family === 4 ? `0x0>>0x16&0x3c@0xc>>0x8=${id}` : `0x34>>0x8=${id}`}"`;
  const len = rs.family === 4 ? 32 : 128;
  for (const peer of s.hosts.filter((h) => h !== host.name)) {
    const address = lab.hosts.find((h) => h.name === peer)!.underlay.toString();
    // From the uplink only: a guest forging a peer's address reaches the host over its bridge or router link.
    rs.rule(chain, `${sh`-i ${host.uplink} -s ${address}/${len}`} ${match} -j ACCEPT`);
  }
  rs.rule(chain, `${match} -j DROP`);
}
