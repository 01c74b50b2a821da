/** Small readers for synthesized Terraform JSON. */

/** Resources of one type, by logical name. */
export function resourcesOf(json: any, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

/** The one resource of a type, failing when there are none or several. */
export function theResource(json: any, type: string): { name: string; body: any } {
  const all = Object.entries(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return { name: all[0][0], body: all[0][1] };
}

/** terraform_data hooks keyed by the stage id they carry in `input.stage`. */
export function hooksByStage(json: any): Record<string, { name: string; body: any }> {
  const out: Record<string, { name: string; body: any }> = {};
  for (const [name, body] of Object.entries<any>(resourcesOf(json, "terraform_data"))) out[body.input.stage] = { name, body };
  return out;
}

/** The provisioner bodies of a resource, with their kind ("local-exec", "remote-exec"). */
export function provisionersOf(resource: any): Array<{ kind: string; body: any }> {
  return (resource.provisioner ?? []).map((p: Record<string, any>) => {
    const [kind, body] = Object.entries(p)[0];
    return { kind, body };
  });
}

/**
 * The value inside `${sensitive(...)}` as `sensitiveValue` writes it: a quoted string, a list of
 * them, or a map of them, each still a Terraform literal (as in the resource's other attributes).
 * HCL's quoted-string escapes (\\ \" \n \r \t \uXXXX) are JSON's, so each string reads with JSON.parse.
 */
export function readSensitive(expression: string): string | string[] | Record<string, string> {
  const m = /^\$\{sensitive\(([\s\S]*)\)\}$/.exec(expression);
  if (!m) throw new Error(`not a sensitive value: ${expression.slice(0, 80)}`);
  const body = m[1];
  const strings = [...body.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((s) => JSON.parse(s[0]) as string);
  if (body.startsWith("\"")) return strings[0];
  if (body.startsWith("[")) return strings;
  // fromEntries: own properties for every key, "__proto__" too.
  return Object.fromEntries(Array.from({ length: strings.length / 2 }, (_, i) => [strings[2 * i], strings[2 * i + 1]]));
}

/** A stage hook's teardown payload (kept sensitive in `triggers_replace.teardown`). */
export function teardownOf(resource: any): any {
  return readSensitive(resource.triggers_replace.teardown);
}

/** A local stage's teardown script as written in the JSON (one chunk; still a Terraform literal). */
export function teardownScriptOf(resource: any): string {
  return teardownOf(resource).CLOUDNET_SCRIPT_0;
}
