import { Host, ResolvedLab } from "../model";
import { convergeStages, ownerId, ownerStage } from "./converge";
import { hostStageId, renderEmulatedHost, renderExternal, renderFabric } from "./emulated";
import { firewallId, firewallStage } from "./firewall";
import { hostGuard } from "./host-guard";
import { interceptRules } from "./intercept";
import { renderInventory } from "./inventory";
import { libraryStage, libraryStageId } from "./library-stage";
import { guestStageId, renderNamespaceGuest } from "./namespace-guest";
import { gatewayHostRules, routerRules } from "./routing-rules";
import { arpGuard, hasSecurityGroups, ipsetApply, nftTable, securityRules } from "./security";
import { networkStageId, renderHostNetwork, routesToRoutedSegments } from "./segments";
import { podNodeStageId, renderPod, renderPodNode } from "./pods";
import { qosStages } from "./qos";
import { Stage } from "./stage";

/**
 * Every stage of a lab, dependencies first: per host its owner, network and rules, then (emulated)
 * the guests and externals, and last the converge stages that remove what the lab no longer declares.
 * Emulated labs also get the stages that create the hosts, guests and externals themselves; real
 * hosts exist already, their VMs and containers are provider resources, and their namespace guests
 * get a stage on the host.
 */
export function renderLab(lab: ResolvedLab): Stage[] {
  const emulated = lab.backend.kind === "emulated";
  const stages: Stage[] = [];
  if (emulated) stages.push(renderFabric(lab));
  for (const host of lab.hosts) {
    if (emulated) stages.push(renderEmulatedHost(lab, host));
    const owner = ownerStage(lab, host.name, emulated ? [hostStageId(host.name)] : []);
    stages.push(owner);
    const net = renderHostNetwork(lab, host, [owner.id]);
    if (net) stages.push(net);
    const rules = hostFirewallStage(lab, host, [net?.id ?? owner.id]);
    if (rules) stages.push(rules);
    const pods = renderPodNode(lab, host, [rules?.id ?? net?.id ?? owner.id]);
    if (pods) stages.push(pods);
  }
  // Pods, once their node's pod network is up (emulated: made on the controller, like guests).
  for (const net of lab.podNetworks) for (const pod of net.pods) stages.push(renderPod(lab, pod, [podNodeStageId(pod.node)]));
  if (emulated) {
    for (const ext of lab.externals) stages.push(renderExternal(lab, ext, routesToRoutedSegments(lab)));
    const ids = new Set(stages.map((s) => s.id));
    const owners = new Map(lab.guests.filter((g) => g.ownsNetns).map((g) => [g.netns, g]));
    for (const guest of lab.guests) {
      const owner = owners.get(guest.netns);
      const shared = owner && owner.name !== guest.name ? owner : undefined;
      const base = guest.ownsNetns || !shared
        ? [networkStageId(guest.host), ownerId(guest.host)].filter((id) => ids.has(id)).slice(0, 1)
        : [guestStageId(shared.name)];
      // Up only once its host's rules are in force; never re-applied for a change below it (its apply converges).
      const rules = ids.has(firewallId(guest.host)) ? [firewallId(guest.host)] : [];
      const intercept = guest.intercept ? interceptRules(lab, guest) : [];
      const keep = intercept.flatMap((rs) => rs.tables().flatMap((t) => t.chains.map((c) => c.name)));
      stages.push({ ...renderNamespaceGuest(lab, guest, [...base, ...rules], keep), replacedWith: guest.ownsNetns ? [] : base });
      if (guest.intercept) {
        stages.push(firewallStage({
          // '.' cannot occur in a host name, so this never meets a host's firewall stage.
          where: `guest.${guest.name}`, runOn: { kind: "netns", netns: guest.netns! }, prefix: lab.prefix,
          rulesets: intercept, after: [guestStageId(guest.name)], replacedWith: [guestStageId(guest.name)],
        }));
      }
    }
    stages.push(...qosStages(lab));
    stages.push(renderInventory(lab, stages));
  } else {
    // Namespace guests on real hosts: made on their host once its network and rules are in place.
    const ids = new Set(stages.map((s) => s.id));
    for (const guest of lab.guests.filter((g) => g.compute.kind === "namespace")) {
      const after = [networkStageId(guest.host), firewallId(guest.host)].filter((id) => ids.has(id));
      stages.push(renderNamespaceGuest(lab, guest, after.length ? after : [ownerId(guest.host)]));
    }
    stages.push(...qosStages(lab));
  }
  return withLibraries(lab, [...stages, ...convergeStages(lab, stages)]);
}

/** The library stages first, and each stage tied to the one of its machine. */
function withLibraries(lab: ResolvedLab, stages: readonly Stage[]): Stage[] {
  if (lab.backend.kind === "emulated") {
    const library = libraryStage(lab);
    return [library, ...stages.map((s) => ({ ...s, library: library.id }))];
  }
  const libraries = lab.hosts.map((h) => libraryStage(lab, h.name));
  return [...libraries, ...stages.map((s) => {
    if (s.runOn.kind !== "host") throw new Error(`stage ${s.id} of a lab on real hosts does not run on a host`);
    return { ...s, library: libraryStageId(s.runOn.host) };
  })];
}

/**
 * A host's rules: the host guard (what the lab lets through the host at all) on every host with a
 * segment, NAT if it is a gateway, security groups if it carries guarded NICs. Re-applied
 * (atomically per table) whenever the network stage is, so that a router namespace found rebuilt
 * gets its rules back.
 */
function hostFirewallStage(lab: ResolvedLab, host: Host, after: readonly string[]): Stage | undefined {
  const { v4, v6 } = gatewayHostRules(lab, host);
  const guarded = hasSecurityGroups(lab, host);
  for (const rs of [v4, v6]) hostGuard(lab, host, rs, securityRules(lab, host, rs));
  if (v4.isEmpty && v6.isEmpty) return undefined;
  const gatewayed = lab.segments.filter((s) => s.gateway?.host === host.name);
  const routers = gatewayed.map((s) => routerRules(lab, s));
  const sets = ipsetApply(lab, host);
  return firewallStage({
    where: host.name, runOn: { kind: "host", host: host.name }, prefix: lab.prefix, rulesets: [v4, v6, ...routers], after, replacedWith: after,
    preRules: [...sets.before, ...arpGuard(lab, host)],
    postRules: sets.after,
    owns: [
      ...sets.sets.map(({ name, family }) => ({ kind: "ipset" as const, name, family })),
      ...(guarded ? [{ kind: "nft-table" as const, name: nftTable(lab.prefix) }] : []),
    ],
  });
}
