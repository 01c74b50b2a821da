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

/** A stage hook's teardown payload: its destroy provisioner's environment (local-exec) or inline lines (remote-exec). */
export function teardownOf(resource: any): any {
  const destroy = (resource.provisioner as any[]).map((p) => Object.values(p)[0] as any).find((p) => p.when === "destroy");
  return destroy.environment ?? destroy.inline;
}

/** A local stage's teardown script as written in the JSON (one chunk; still a Terraform literal). */
export function teardownScriptOf(resource: any): string {
  return teardownOf(resource).CLOUDNET_SCRIPT_0;
}
