import { ResolvedLab } from "../model";
import { fabricStageId, guestStageId, hostStageId, renderEmulatedGuest, renderEmulatedHost, renderFabric } from "./emulated";
import { networkStageId, renderHostNetwork } from "./segments";
import { renderInventory } from "./inventory";
import { Stage } from "./stage";

/**
 * Every stage of a lab, dependencies first. Emulated labs also get the stages that create the
 * hosts and guests themselves; real hosts exist already and their guests are provider resources.
 */
export function renderLab(lab: ResolvedLab): Stage[] {
  const emulated = lab.backend.kind === "emulated";
  const stages: Stage[] = [];
  if (emulated) stages.push(renderFabric(lab));
  for (const host of lab.hosts) {
    if (emulated) stages.push(renderEmulatedHost(lab, host));
    const net = renderHostNetwork(lab, host, emulated ? [hostStageId(host.name)] : []);
    if (net) stages.push(net);
  }
  if (emulated) {
    const ids = new Set(stages.map((s) => s.id));
    for (const guest of lab.guests) {
      const deps = [networkStageId(guest.host), hostStageId(guest.host)].filter((id) => ids.has(id)).slice(0, 1);
      stages.push(renderEmulatedGuest(lab, guest, deps));
    }
    stages.push(renderInventory(lab, stages.map((s) => s.id)));
  }
  return stages;
}

export { fabricStageId, guestStageId, hostStageId, networkStageId };
