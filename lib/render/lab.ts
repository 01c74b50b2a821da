import { sh } from "../net";
import { Host, ResolvedLab } from "../model";
import {
  externalStageId, fabricStageId, guestStageId, hostStageId, renderEmulatedGuest, renderEmulatedHost, renderExternal, renderFabric,
} from "./emulated";
import { firewallStages } from "./firewall";
import { interceptRules } from "./intercept";
import { renderInventory } from "./inventory";
import { gatewayHostRules, routerRules } from "./routing-rules";
import { IPSET_HELPERS, arpGuard, arpGuardRemove, hasSecurityGroups, ipsetApply, ipsetRemoveAll, securityRules } from "./security";
import { networkStageId, renderHostNetwork, routesToRoutedSegments } from "./segments";
import { Stage } from "./stage";

/**
 * Every stage of a lab, dependencies first. Emulated labs also get the stages that create the
 * hosts, guests and externals themselves; real hosts exist already and their guests are provider
 * resources.
 */
export function renderLab(lab: ResolvedLab): Stage[] {
  const emulated = lab.backend.kind === "emulated";
  const stages: Stage[] = [];
  if (emulated) stages.push(renderFabric(lab));
  for (const host of lab.hosts) {
    if (emulated) stages.push(renderEmulatedHost(lab, host));
    const net = renderHostNetwork(lab, host, emulated ? [hostStageId(host.name)] : []);
    if (net) stages.push(net);
    stages.push(...hostFirewallStages(lab, host, net ? [net.id] : emulated ? [hostStageId(host.name)] : []));
  }
  if (emulated) {
    for (const ext of lab.externals) stages.push(renderExternal(lab, ext, routesToRoutedSegments(lab)));
    const ids = new Set(stages.map((s) => s.id));
    for (const guest of lab.guests) {
      const shared = lab.guests.find((g) => g.ownsNetns && g.netns === guest.netns && g.name !== guest.name);
      const deps = guest.ownsNetns || !shared
        ? [networkStageId(guest.host), hostStageId(guest.host)].filter((id) => ids.has(id)).slice(0, 1)
        : [guestStageId(shared.name)];
      stages.push(renderEmulatedGuest(lab, guest, deps));
    }
    for (const guest of lab.guests.filter((g) => g.intercept)) {
      stages.push(...firewallStages({
        where: `guest-${guest.name}`, runOn: { kind: "netns", netns: guest.netns! }, prefix: lab.prefix,
        rulesets: [interceptRules(lab, guest)], after: [guestStageId(guest.name)],
      }));
    }
    stages.push(renderInventory(lab, stages.map((s) => s.id)));
  }
  return stages;
}

/**
 * A host's firewall stages: NAT and forwarding if it is a gateway, security groups if it carries
 * guarded NICs. The base owns the host settings they need (ip_forward, br_netfilter), saved once and
 * put back on destroy, and removes the lab's chains, sets and bridge table.
 */
function hostFirewallStages(lab: ResolvedLab, host: Host, after: readonly string[]): Stage[] {
  const { v4, v6 } = gatewayHostRules(lab, host);
  const guarded = hasSecurityGroups(lab, host);
  if (guarded) securityRules(lab, host, { v4, v6 });
  if (v4.isEmpty && v6.isEmpty) return [];
  const routers = lab.segments.filter((s) => s.gateway?.host === host.name).map((s) => routerRules(lab, s));
  const gateway = routers.length > 0;
  const sysctls: Array<[string, string, string]> = [
    ...(gateway ? [["net.ipv4.ip_forward", "ipv4-forward", "1"] as [string, string, string]] : []),
    ...(gateway && lab.segments.some((s) => s.gateway?.host === host.name && s.cidr6) ? [["net.ipv6.conf.all.forwarding", "ipv6-forward", "1"] as [string, string, string]] : []),
    ...(guarded ? [
      ["net.bridge.bridge-nf-call-iptables", "bridge-nf-iptables", "1"] as [string, string, string],
      ["net.bridge.bridge-nf-call-ip6tables", "bridge-nf-ip6tables", "1"] as [string, string, string],
    ] : []),
  ];
  const state = `/run/cloudnet/state/${lab.prefix}-${host.name}`;
  const sets = ipsetApply(lab, host);
  return firewallStages({
    where: host.name, runOn: { kind: "host", host: host.name }, prefix: lab.prefix, rulesets: [v4, v6, ...routers], after,
    helpers: IPSET_HELPERS,
    // br_netfilter makes bridged frames pass iptables; real hosts may not have loaded it yet.
    baseApply: [
      ...(guarded ? ["modprobe br_netfilter 2>/dev/null || true"] : []),
      sh`mkdir -p /run/cloudnet/state`,
      ...sysctls.map(([key, file]) => sh`[ -e ${state}.${file} ] || sysctl -n ${key} > ${state}.${file}`),
    ],
    baseTeardown: [
      ...ipsetRemoveAll(lab.prefix),
      ...arpGuardRemove(lab.prefix),
      ...sysctls.map(([key, file]) => sh`if [ -e ${state}.${file} ]; then sysctl -qw ${key}=$(cat ${state}.${file}); rm -f ${state}.${file}; fi`),
    ],
    preRules: [...sysctls.map(([key, , value]) => sh`sysctl -qw ${key}=${value}`), ...sets.before, ...arpGuard(lab, host)],
    postRules: sets.after,
  });
}

export { fabricStageId, guestStageId, hostStageId, networkStageId, externalStageId };
