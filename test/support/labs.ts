import { App, Testing, TerraformStack } from "cdktf";
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

/** The message an invalid lab fails synth with: these `[path] message` lines, in this order. */
export const invalidLab = (...lines: string[]) => [
  "Validation failed with the following errors:", ...lines.map((l) => `  ${l}`), "", "The lab renders no host script until these are fixed.",
].join("\n");

/**
 * `build` fails closed with exactly `expected`: with cdktf's validation, without it, and synthesizing
 * its stack directly; and no invalid lab it made got stages or real guests (the lab's aspect threw
 * before rendering).
 */
export function expectFailsClosed(build: (scope: Construct) => void, expected: string): void {
  const labs: Lab[] = [];
  const tracked = (scope: Construct) => { build(scope); labs.push(...scope.node.findAll().filter((c): c is Lab => Lab.isLab(c))); };
  expect(synthError(tracked)).toBe(expected);
  expect(() => synthJson(tracked)).toThrow(new Error(expected));
  const stack = new TerraformStack(new App(), "stack");
  tracked(stack);
  expect(() => Testing.synth(stack)).toThrow(new Error(expected));
  const invalid = labs.filter((l) => l.resolve().issues.length > 0);
  expect(invalid.length).toBeGreaterThan(0);
  for (const l of invalid) expect(l.node.children.filter((ch) => ["Stages", "Compute"].includes(ch.node.id))).toEqual([]);
}
