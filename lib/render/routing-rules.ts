import { sh } from "../net";
import { Host, ResolvedLab, Segment, Service } from "../model";
import { Ruleset } from "./firewall";

/**
 * kube-proxy's trick for weighted random choice with the statistic match: backend i is taken with
 * probability w_i / (w_i + ... + w_n) among the connections that reached it, so each ends up with
 * w_i / sum(w). The last backend takes what is left, without a match.
 */
export function statisticProbabilities(weights: readonly number[]): number[] {
  return weights.map((w, i) => w / weights.slice(i).reduce((a, b) => a + b, 0));
}

/** Ten decimals, as kube-proxy writes them. */
export function formatProbability(p: number): string {
  return p.toFixed(10);
}

/**
 * NAT on a gateway host (the host of one or more segments' routers): floating IPs, port forwards
 * and node ports (DNAT), SNAT for floating IPs, masquerade out of the uplink (nat segments). Empty
 * when the host is no gateway. What may be forwarded at all is the host guard's (host-guard.ts).
 */
export function gatewayHostRules(lab: ResolvedLab, host: Host): { v4: Ruleset; v6: Ruleset } {
  const v4 = new Ruleset(4, lab.prefix);
  const v6 = new Ruleset(6, lab.prefix);
  const mine = lab.segments.filter((s) => s.gateway?.host === host.name);
  if (mine.length === 0) return { v4, v6 };
  const gatewayed = new Set(mine.map((s) => s.name));

  const dnat = v4.chain("nat", "DNAT");
  const snat = v4.chain("nat", "SNAT");
  v4.hook("nat", "PREROUTING", dnat);
  v4.hook("nat", "OUTPUT", dnat);
  v4.hook("nat", "POSTROUTING", snat);
  // Never NAT while bridging: that is the routers' job (and the host's, once routed).
  v4.rule(dnat, "-m physdev --physdev-is-in -j RETURN");

  for (const g of lab.guests) {
    for (const n of g.nics) {
      if (!n.floatingIp || !gatewayed.has(n.segment)) continue;
      v4.rule(dnat, sh`-d ${n.floatingIp.toString()}/32 -m comment --comment ${`floating-ip-${g.name}`} -j DNAT --to-destination ${n.address.toString()}`);
      v4.rule(snat, sh`-s ${n.address.toString()}/32 -o ${host.uplink} -j SNAT --to-source ${n.floatingIp.toString()}`);
    }
  }
  for (const f of lab.portForwards.filter((f) => gatewayed.has(f.segment))) {
    v4.rule(dnat, sh`-d ${host.underlay.toString()}/32 -p ${f.protocol} --dport ${f.hostPort} -j DNAT --to-destination ${f.to.toString()}:${f.port}`);
  }
  for (const svc of lab.services.filter((s) => gatewayed.has(s.segment) && s.nodePort !== undefined)) {
    v4.rule(dnat, sh`-d ${host.underlay.toString()}/32 -p ${svc.protocol} --dport ${svc.nodePort!} -j ${serviceChain(v4, svc)}`);
  }
  for (const s of mine) {
    const link = s.gateway!.router.hostLink;
    // A guest reaching a DNAT target in its own subnet must get the reply back through us.
    v4.rule(snat, sh`-s ${s.cidr.toString()} -o ${link} -m conntrack --ctstate DNAT -j MASQUERADE`);
    if (s.mode === "nat") v4.rule(snat, sh`-s ${s.cidr.toString()} -o ${host.uplink} -j MASQUERADE`);
  }
  return { v4, v6 };
}

/** Rules inside a segment's router: its services' virtual IPs, with hairpin masquerade. */
export function routerRules(lab: ResolvedLab, segment: Segment): Ruleset {
  const rs = new Ruleset(4, lab.prefix, segment.gateway!.router.netns);
  const services = lab.services.filter((s) => s.segment === segment.name);
  if (services.length === 0) return rs;
  const dnat = rs.chain("nat", "DNAT");
  const snat = rs.chain("nat", "SNAT");
  rs.hook("nat", "PREROUTING", dnat);
  rs.hook("nat", "OUTPUT", dnat);
  rs.hook("nat", "POSTROUTING", snat);
  for (const svc of services) {
    rs.rule(dnat, sh`-d ${svc.vip.toString()}/32 -p ${svc.protocol} --dport ${svc.port} -j ${serviceChain(rs, svc)}`);
  }
  // Client and backend share the subnet: without this the backend would answer the client directly.
  rs.rule(snat, sh`-s ${segment.cidr.toString()} -o gw0 -m conntrack --ctstate DNAT -j MASQUERADE`);
  return rs;
}

function serviceChain(rs: Ruleset, svc: Service): string {
  const chain = rs.chain("nat", `SVC-${svc.name}`);
  const probabilities = statisticProbabilities(svc.backends.map((b) => b.weight));
  svc.backends.forEach((b, i) => {
    const to = `${b.address}:${b.port}`;
    const last = i === svc.backends.length - 1;
    rs.rule(chain, last
      ? sh`-p ${svc.protocol} -j DNAT --to-destination ${to}`
      : sh`-p ${svc.protocol} -m statistic --mode random --probability ${formatProbability(probabilities[i])} -j DNAT --to-destination ${to}`);
  });
  return chain;
}

/**
 * Forwarding on a gateway host, accepted explicitly (the host's FORWARD policy may be DROP): a
 * router's traffic goes out of the uplink or to its own tenant's routers, nothing else of the host
 * (docker0, virbr0, a management LAN, other labs); nothing reaches another tenant's subnet, wherever
 * that tenant's router lives, or a tunnel endpoint of the lab (`tunnel`: a chain that drops those).
 * Into a nat segment only replies and DNAT targets pass from the uplink, into a routed one everything.
 */
export function gatewayForwardRules(lab: ResolvedLab, host: Host, rs: Ruleset, chain: string, tunnel: string): void {
  const segments = lab.segments.filter((s) => s.gateway?.host === host.name);
  const link = (s: Segment) => s.gateway!.router.hostLink;
  const gatewayed = lab.segments.filter((s) => s.gateway);
  for (const a of segments) {
    for (const other of gatewayed.filter((o) => o.tenant !== a.tenant)) {
      rs.rule(chain, sh`-i ${link(a)} -d ${other.cidr.toString()} -j DROP`);
    }
    rs.rule(chain, sh`-i ${link(a)} -p udp -m multiport --dports ${TUNNEL_PORTS.join(",")} -j ${tunnel}`);
    rs.rule(chain, sh`-i ${link(a)} -p gre -j ${tunnel}`);
  }
  for (const a of segments) {
    rs.rule(chain, sh`-i ${link(a)} -o ${host.uplink} -j ACCEPT`);
    // A tenant's routers reach each other's networks (and, through a floating IP, their own).
    for (const b of segments.filter((x) => x.tenant === a.tenant)) rs.rule(chain, sh`-i ${link(a)} -o ${link(b)} -j ACCEPT`);
    rs.rule(chain, sh`-i ${link(a)} -j DROP`);
  }
  for (const s of segments) {
    rs.rule(chain, s.mode === "routed"
      ? sh`-i ${host.uplink} -o ${link(s)} -j ACCEPT`
      : sh`-i ${host.uplink} -o ${link(s)} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`);
    rs.rule(chain, sh`-o ${link(s)} -j DROP`);
  }
}

/** UDP ports of the tunnels a host terminates (VXLAN, Geneve): guests never send to them on a lab host. */
export const TUNNEL_PORTS = [4789, 6081];
