import { sh } from "../net";
import { Host, ResolvedLab } from "../model";
import {
  guestStageId, hostStageId, renderEmulatedGuest, renderEmulatedHost, renderExternal, renderFabric,
} from "./emulated";
import { firewallId, firewallStages } from "./firewall";
import { interceptRules } from "./intercept";
import { renderInventory } from "./inventory";
import { gatewayHostRules, routerRules } from "./routing-rules";
import { IPSET_HELPERS, arpGuard, arpGuardRemove, hasSecurityGroups, ipsetApply, ipsetRemoveAll, securityRules } from "./security";
import { networkStageId, renderHostNetwork, routesToRoutedSegments } from "./segments";
import { Stage } from "./stage";
import { SYSCTL_HELPERS } from "./sysctl";

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
    stages.push(...hostFirewallStages(lab, host, net ? [net.id] : emulated ? [hostStageId(host.name)] : [], emulated ? [hostStageId(host.name)] : []));
  }
  if (emulated) {
    for (const ext of lab.externals) stages.push(renderExternal(lab, ext, routesToRoutedSegments(lab)));
    const ids = new Set(stages.map((s) => s.id));
    for (const guest of lab.guests) {
      const shared = lab.guests.find((g) => g.ownsNetns && g.netns === guest.netns && g.name !== guest.name);
      const base = guest.ownsNetns || !shared
        ? [networkStageId(guest.host), hostStageId(guest.host)].filter((id) => ids.has(id)).slice(0, 1)
        : [guestStageId(shared.name)];
      // Up only once its host's rules are in force, and gone before they go (not rebuilt with them).
      const rules = ids.has(firewallId(guest.host)) ? [firewallId(guest.host)] : [];
      stages.push({ ...renderEmulatedGuest(lab, guest, [...base, ...rules]), replacedWith: base });
    }
    for (const guest of lab.guests.filter((g) => g.intercept)) {
      stages.push(...firewallStages({
        // '.' cannot occur in a host name, so this never meets a host's firewall stages.
        where: `guest.${guest.name}`, runOn: { kind: "netns", netns: guest.netns! }, prefix: lab.prefix,
        rulesets: interceptRules(lab, guest), after: [guestStageId(guest.name)], replacedWith: [guestStageId(guest.name)],
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
function hostFirewallStages(lab: ResolvedLab, host: Host, after: readonly string[], replacedWith: readonly string[]): Stage[] {
  const { v4, v6 } = gatewayHostRules(lab, host);
  const guarded = hasSecurityGroups(lab, host);
  if (guarded) securityRules(lab, host, { v4, v6 });
  if (v4.isEmpty && v6.isEmpty) return [];
  const gatewayed = lab.segments.filter((s) => s.gateway?.host === host.name);
  const routers = gatewayed.map((s) => routerRules(lab, s));
  // Host settings the rules need, each set to 1 while the lab is deployed.
  const sysctls = [
    ...(gatewayed.length > 0 ? ["net.ipv4.ip_forward"] : []),
    ...(gatewayed.some((s) => s.cidr6) ? ["net.ipv6.conf.all.forwarding"] : []),
    ...(guarded ? ["net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"] : []),
  ];
  // Host-wide settings are shared with other labs on a real host: hold them, restore on the last release.
  const scope = host.netns ?? "host";
  const sets = ipsetApply(lab, host);
  return firewallStages({
    where: host.name, runOn: { kind: "host", host: host.name }, prefix: lab.prefix, rulesets: [v4, v6, ...routers], after, replacedWith,
    helpers: [...IPSET_HELPERS, ...SYSCTL_HELPERS],
    baseApply: [
      // br_netfilter makes bridged frames pass iptables; real hosts may not have loaded it yet.
      ...(guarded ? ["modprobe br_netfilter 2>/dev/null || true"] : []),
      ...sysctls.map((key) => sh`cn_sysctl_hold ${key} ${scope} ${lab.prefix}`),
    ],
    baseTeardown: [
      ...ipsetRemoveAll(lab.prefix),
      ...arpGuardRemove(lab.prefix),
      ...sysctls.map((key) => sh`cn_sysctl_release ${key} ${scope} ${lab.prefix}`),
    ],
    preRules: [...sysctls.map((key) => sh`sysctl -qw ${key}=1`), ...sets.before, ...arpGuard(lab, host)],
    postRules: sets.after,
  });
}

