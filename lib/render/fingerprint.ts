import { createHash } from "crypto";
import { Stage } from "./stage";

/**
 * Each stage's fingerprint: a hash of its scripts (or of its identity, for owners) and of the
 * fingerprints of the stages whose replacement re-applies it. Terraform replaces a stage exactly when
 * its fingerprint changes (the hook's `triggers_replace`), so an unchanged lab plans "No changes".
 */
export function stageFingerprints(stages: readonly Stage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const stage of stages) {
    const hash = stage.identity !== undefined
      ? createHash("sha256").update("identity\0").update(stage.identity)
      : createHash("sha256").update(stage.apply).update("\0").update(stage.teardown);
    for (const id of stage.replacedWith ?? stage.after) {
      const dep = out.get(id);
      if (dep === undefined) throw new Error(`stage ${stage.id} comes after ${id}, which is not rendered before it`);
      hash.update("\0").update(dep);
    }
    out.set(stage.id, hash.digest("hex"));
  }
  return out;
}
