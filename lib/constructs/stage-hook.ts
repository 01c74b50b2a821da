import { DataResource, ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ResolvedLab } from "../model";
import { Stage } from "../render";
import { hookFor } from "../targets";

/**
 * A `terraform_data` resource that applies one stage on create and runs its teardown on destroy.
 * It is replaced when the stage's fingerprint changes (see `stageFingerprints`), so an unchanged lab
 * plans "No changes".
 */
export class StageHook extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, lab: ResolvedLab, stage: Stage, readonly fingerprint: string, hooks: ReadonlyMap<string, StageHook>) {
    super(scope, id);
    const hook = hookFor(lab, stage);
    this.resource = new DataResource(this, "hook", {
      input: hook.input,
      triggersReplace: { fingerprint },
      provisioners: hook.provisioners as never,
      dependsOn: stage.after.map((a) => hooks.get(a)!.resource as ITerraformDependable),
    });
  }
}
