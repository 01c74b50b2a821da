import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Lab } from "../../lib";

/** Synthesizes a scope and returns the parsed Terraform JSON. */
export function synthJson(build: (scope: Construct) => void): any {
  return JSON.parse(Testing.synthScope(build));
}

/** Builds a stack with `build`, runs aspects and validations, and returns the error message (or undefined). */
export function synthError(build: (scope: Construct) => void): string | undefined {
  const stack = new TerraformStack(Testing.app(), "stack");
  build(stack);
  try {
    Testing.synth(stack, true);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** All terraform_data resources of a synthesized stack. */
export function hooksOf(json: any): Record<string, any> {
  return json.resource?.terraform_data ?? {};
}

export { Lab };
