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
 * NAT and forwarding rules of the gateway host of nat and routed segments: masquerade, floating
 * IPs, port forwards, services (DNAT with the statistic match, node ports), hairpin masquerade, and
 * the FORWARD rules that keep tenants apart. Returns an empty IPv4 ruleset when the host is no gateway.
 */
export function gatewayRules(lab: ResolvedLab, host: Host): { v4: Ruleset; v6: Ruleset } {
  const v4 = new Ruleset(4, lab.prefix);
  const v6 = new Ruleset(6, lab.prefix);
  const mine = lab.segments.filter((s) => s.gateway?.host === host.name);
  if (mine.length === 0) return { v4, v6 };
  const byName = new Map(lab.segments.map((s) => [s.name, s]));

  const dnat = v4.chain("nat", "DNAT");
  const snat = v4.chain("nat", "SNAT");
  v4.hook("nat", "PREROUTING", dnat);
  v4.hook("nat", "OUTPUT", dnat);
  v4.hook("nat", "POSTROUTING", snat);

  // Floating IPs: 1:1 NAT, in and out.
  for (const g of lab.guests) {
    for (const n of g.nics) {
      if (!n.floatingIp || byName.get(n.segment)?.gateway?.host !== host.name) continue;
      v4.rule(dnat, sh`-d ${n.floatingIp.toString()}/32 -m comment --comment ${`floating-ip-${g.name}`} -j DNAT --to-destination ${n.address.toString()}`);
      v4.rule(snat, sh`-s ${n.address.toString()}/32 -o ${host.uplink} -j SNAT --to-source ${n.floatingIp.toString()}`);
    }
  }
  for (const f of lab.portForwards.filter((f) => byName.get(f.segment)?.gateway?.host === host.name)) {
    v4.rule(dnat, sh`-d ${host.underlay.toString()}/32 -p ${f.protocol} --dport ${f.hostPort} -j DNAT --to-destination ${f.to.toString()}:${f.port}`);
  }
  for (const svc of lab.services.filter((s) => byName.get(s.segment)?.gateway?.host === host.name)) {
    const chain = serviceChain(v4, svc);
    v4.rule(dnat, sh`-d ${svc.vip.toString()}/32 -p ${svc.protocol} --dport ${svc.port} -j ${chain}`);
    if (svc.nodePort !== undefined) v4.rule(dnat, sh`-d ${host.underlay.toString()}/32 -p ${svc.protocol} --dport ${svc.nodePort} -j ${chain}`);
  }
  for (const s of mine) {
    // Hairpin: a client reaching a DNAT target in its own subnet must see the reply come back through us.
    v4.rule(snat, sh`-s ${s.cidr.toString()} -d ${s.cidr.toString()} -m conntrack --ctstate DNAT -j MASQUERADE`);
    if (s.mode === "nat") v4.rule(snat, sh`-s ${s.cidr.toString()} -o ${host.uplink} -j MASQUERADE`);
  }

  for (const [rs, family] of [[v4, 4], [v6, 6]] as const) {
    const segs = mine.filter((s) => (family === 4 ? s.cidr.family === 4 : s.cidr.family === 6 || s.cidr6));
    if (segs.length === 0) continue;
    const fwd = rs.chain("filter", "FWD");
    rs.hook("filter", "FORWARD", fwd);
    forwardRules(rs, fwd, segs);
  }
  return { v4, v6 };
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

/** Routed traffic between bridges of different tenants is dropped; a segment's own traffic, replies and DNAT targets pass. */
function forwardRules(rs: Ruleset, chain: string, segments: readonly Segment[]): void {
  for (const a of segments) {
    for (const b of segments) {
      if (a.tenant !== b.tenant) rs.rule(chain, sh`-i ${a.bridge} -o ${b.bridge} -j DROP`);
    }
  }
  for (const s of segments) {
    rs.rule(chain, sh`-i ${s.bridge} -j ACCEPT`);
    rs.rule(chain, s.mode === "routed"
      ? sh`-o ${s.bridge} -j ACCEPT`
      : sh`-o ${s.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`);
  }
}
