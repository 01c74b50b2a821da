import { createHash } from "crypto";
import { DataResource, ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ResolvedLab } from "../model";
import { Stage } from "../render";
import { hookFor } from "../targets";

/**
 * A `terraform_data` resource that applies one stage on create and tears it down on destroy.
 * It is replaced when its scripts change, or when a stage in its `replacedWith` is replaced (a
 * guest's veth must be re-plugged into a bridge that was rebuilt), so an unchanged lab plans
 * "No changes".
 */
export class StageHook extends Construct {
  readonly resource: DataResource;
  /** Hash of this stage's scripts and of the stages whose replacement replaces it. */
  readonly fingerprint: string;

  constructor(scope: Construct, id: string, lab: ResolvedLab, stage: Stage, hooks: ReadonlyMap<string, StageHook>) {
    super(scope, id);
    const deps = stage.after.map((a) => hooks.get(a)!);
    const hash = createHash("sha256").update(stage.apply).update("\0").update(stage.teardown);
    for (const d of (stage.replacedWith ?? stage.after).map((a) => hooks.get(a)!)) hash.update("\0").update(d.fingerprint);
    this.fingerprint = hash.digest("hex");
    const hook = hookFor(lab, stage);
    this.resource = new DataResource(this, "hook", {
      input: hook.input,
      triggersReplace: { fingerprint: this.fingerprint },
      provisioners: hook.provisioners as never,
      dependsOn: deps.map((d) => d.resource as ITerraformDependable),
    });
  }
}
