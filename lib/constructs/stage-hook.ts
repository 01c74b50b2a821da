import { TerraformResource, TerraformStack } from "cdktf";
import { ValidateTerraformVersion } from "cdktf/lib/validations/validate-terraform-version";
import { Construct } from "constructs";
import { ResolvedLab } from "../model";
import { Stage } from "../render";
import { hookFor } from "../targets";

/**
 * Terraform's built-in `terraform_data` resource. cdktf's own `DataResource` registers a validation
 * per resource that spawns `terraform version`, which was almost all of a large lab's synth time;
 * this one leaves that check to `requireTerraformDataSupport`, once per app.
 */
export class TerraformData extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly attributes: { input: Record<string, unknown>; triggersReplace: Record<string, string> },
    meta: { provisioners: unknown[]; dependsOn: TerraformData[] }) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      provisioners: meta.provisioners as never,
    });
    // Addresses as plain strings: cdktf's dependsOn makes a token per entry, and each token captures
    // a whole stack trace (about half of a 10,000-guest synth). None at all rather than an empty
    // list: cdktf and cdktn print an empty list differently, and the plan is the same.
    if (meta.dependsOn.length > 0) this.dependsOn = meta.dependsOn.map((r) => `terraform_data.${r.friendlyUniqueId}`);
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { input: this.attributes.input, triggers_replace: this.attributes.triggersReplace };
  }
}

const CHECKED = Symbol.for("cdktf-cloudnet.terraformDataChecked");

/**
 * Checks once per app that the Terraform binary has `terraform_data` (1.4 or later), and reports the
 * result at validation, as cdktf's own check does. The check runs when the first lab is built, before
 * it renders anything: spawning `terraform version` from a process that already holds a large lab's
 * rendered Terraform took half a second at 10,000 guests (the fork copies the whole heap's page tables).
 */
export function requireTerraformDataSupport(scope: Construct): void {
  const root = scope.node.root as unknown as Record<symbol, boolean>;
  if (root[CHECKED]) return;
  root[CHECKED] = true;
  const messages = new ValidateTerraformVersion(">=1.4",
    "The lab's stages are Terraform's built-in terraform_data resources, which need Terraform 1.4 or later. Please upgrade Terraform.").validate();
  TerraformStack.of(scope).node.addValidation({ validate: () => messages });
}

/**
 * A `terraform_data` resource that applies one stage on create and runs its teardown on destroy.
 * It is replaced when the stage's fingerprint changes (see `stageFingerprints`), so an unchanged lab
 * plans "No changes". The teardown is in the destroy provisioner (see `Hook`).
 */
export class StageHook extends Construct {
  readonly resource: TerraformData;

  constructor(scope: Construct, id: string, lab: ResolvedLab, stage: Stage, readonly fingerprint: string, hooks: ReadonlyMap<string, StageHook>) {
    super(scope, id);
    const hook = hookFor(lab, stage);
    this.resource = new TerraformData(this, "hook", { input: hook.input, triggersReplace: { fingerprint } }, {
      provisioners: hook.provisioners,
      dependsOn: [...(stage.library ? [stage.library] : []), ...stage.after].map((a) => hooks.get(a)!.resource),
    });
  }
}
