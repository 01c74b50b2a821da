import { sh } from "../net";
import { Host, ResolvedLab } from "../model";
import {
  externalStageId, fabricStageId, guestStageId, hostStageId, renderEmulatedGuest, renderEmulatedHost, renderExternal, renderFabric,
} from "./emulated";
import { firewallStages } from "./firewall";
import { interceptRules } from "./intercept";
import { renderInventory } from "./inventory";
import { gatewayHostRules, routerRules } from "./routing-rules";
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
    stages.push(...gatewayStages(lab, host, net ? [net.id] : emulated ? [hostStageId(host.name)] : []));
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

/** Forwarding and NAT on a gateway host: its firewall stages, owning the ip_forward setting too. */
function gatewayStages(lab: ResolvedLab, host: Host, after: readonly string[]): Stage[] {
  const { v4, v6 } = gatewayHostRules(lab, host);
  if (v4.isEmpty && v6.isEmpty) return [];
  const routers = lab.segments.filter((s) => s.gateway?.host === host.name).map((s) => routerRules(lab, s));
  const state = `/run/cloudnet/state/${lab.prefix}-${host.name}`;
  const sysctls = [["net.ipv4.ip_forward", "ipv4-forward"], ...(v6.isEmpty ? [] : [["net.ipv6.conf.all.forwarding", "ipv6-forward"]])];
  return firewallStages({
    where: host.name, runOn: { kind: "host", host: host.name }, prefix: lab.prefix, rulesets: [v4, v6, ...routers], after,
    // The host's forwarding setting is saved once and put back on destroy.
    baseApply: [sh`mkdir -p /run/cloudnet/state`, ...sysctls.map(([key, file]) => sh`[ -e ${state}.${file} ] || sysctl -n ${key} > ${state}.${file}`)],
    baseTeardown: sysctls.map(([key, file]) => sh`if [ -e ${state}.${file} ]; then sysctl -qw ${key}=$(cat ${state}.${file}); rm -f ${state}.${file}; fi`),
    preRules: sysctls.map(([key]) => sh`sysctl -qw ${key}=1`),
  });
}

export { fabricStageId, guestStageId, hostStageId, networkStageId, externalStageId };
