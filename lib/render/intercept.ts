import { sh } from "../net";
import { Family, Guest, ResolvedLab } from "../model";
import { Ruleset } from "./firewall";

/**
 * Sidecar-style interception inside a guest, as service meshes do it: outbound TCP is redirected to
 * the proxy's outbound port and inbound TCP to its inbound port, except the proxy's own connections
 * (matched by its uid) and loopback traffic, so the proxy can still reach the real destination.
 * Both families, so a dual-stack guest's IPv6 TCP does not slip past the proxy.
 */
export function interceptRules(lab: ResolvedLab, guest: Guest): Ruleset[] {
  return ([4, 6] as const).map((family) => interceptRuleset(lab, guest, family));
}

function interceptRuleset(lab: ResolvedLab, guest: Guest, family: Family): Ruleset {
  const rs = new Ruleset(family, lab.prefix);
  const i = guest.intercept;
  if (!i) return rs;
  if (i.outboundPort !== undefined) {
    const out = rs.chain("nat", "MESH-OUT");
    rs.hook("nat", "OUTPUT", out);
    rs.rule(out, sh`-p tcp -m owner --uid-owner ${i.proxyUid} -j RETURN`);
    rs.rule(out, family === 4 ? "-p tcp -d 127.0.0.0/8 -j RETURN" : "-p tcp -d ::1/128 -j RETURN");
    rs.rule(out, sh`-p tcp -j REDIRECT --to-ports ${i.outboundPort}`);
  }
  if (i.inboundPort !== undefined) {
    const inbound = rs.chain("nat", "MESH-IN");
    rs.hook("nat", "PREROUTING", inbound);
    rs.rule(inbound, sh`-p tcp -j REDIRECT --to-ports ${i.inboundPort}`);
  }
  return rs;
}
