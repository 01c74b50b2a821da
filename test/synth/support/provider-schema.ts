import * as fs from "fs";
import * as path from "path";

/** A block of `terraform providers schema -json`. */
export interface SchemaBlock {
  readonly attributes?: Record<string, { type: unknown; required?: boolean; optional?: boolean; computed?: boolean }>;
  readonly block_types?: Record<string, { nesting_mode: string; block: SchemaBlock; min_items?: number; max_items?: number }>;
}

export interface ProviderSchema {
  readonly provider: SchemaBlock;
  readonly resources: Record<string, SchemaBlock>;
}

export function loadProviderSchema(file: string, source: string): ProviderSchema {
  const json = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "..", file), "utf8"));
  const p = json.provider_schemas[source];
  if (!p) throw new Error(`${file} has no schema for ${source}`);
  const resources: Record<string, SchemaBlock> = {};
  for (const [type, r] of Object.entries<any>(p.resource_schemas)) resources[type] = r.block;
  return { provider: p.provider.block, resources };
}

/** cdktf and Terraform keys that every resource may carry and no provider schema lists. */
export const RESOURCE_META_KEYS = ["//", "depends_on", "provider", "lifecycle", "count", "for_each", "provisioner", "connection"];
export const PROVIDER_META_KEYS = ["alias"];

/**
 * Problems of `value` against `block`: fields not in the schema (recursing into nested blocks),
 * read-only attributes that are set, required attributes and blocks that are missing, and literal
 * values of the wrong primitive type. Terraform references (`${...}`) match any type.
 */
export function checkAgainstSchema(value: Record<string, unknown>, block: SchemaBlock, where: string, metaKeys: readonly string[] = []): string[] {
  const problems: string[] = [];
  const attributes = block.attributes ?? {};
  const blocks = block.block_types ?? {};
  for (const [key, v] of Object.entries(value)) {
    if (metaKeys.includes(key)) continue;
    const attr = attributes[key];
    const nested = blocks[key];
    if (attr) {
      if (attr.computed && !attr.optional && !attr.required) problems.push(`${where}.${key} is read-only`);
      const wrong = typeProblem(v, attr.type);
      if (wrong) problems.push(`${where}.${key} ${wrong}`);
    } else if (nested) {
      problems.push(...checkNested(v, nested, `${where}.${key}`));
    } else {
      problems.push(`${where}.${key} is not in the schema`);
    }
  }
  for (const [key, attr] of Object.entries(attributes)) {
    if (attr.required && !(key in value)) problems.push(`${where}.${key} is required but missing`);
  }
  for (const [key, nested] of Object.entries(blocks)) {
    if ((nested.min_items ?? 0) > 0 && !(key in value)) problems.push(`${where}.${key} needs at least ${nested.min_items} block(s)`);
  }
  return problems;
}

function checkNested(v: unknown, nested: NonNullable<SchemaBlock["block_types"]>[string], where: string): string[] {
  if (nested.nesting_mode === "single" || nested.nesting_mode === "group") {
    return isObject(v) ? checkAgainstSchema(v, nested.block, where) : [`${where} must be one block`];
  }
  // Terraform's JSON syntax takes a single object for a list or set block too (one block), which is
  // what cdktf writes for blocks with max_items 1, such as libvirt_domain.xml.
  if (isObject(v) && !Array.isArray(v)) {
    if ((nested.max_items ?? Infinity) < 1) return [`${where} may not have a block`];
    return checkAgainstSchema(v, nested.block, `${where}[0]`);
  }
  if (!Array.isArray(v)) return [`${where} must be a list of blocks`];
  const problems: string[] = [];
  if (nested.min_items !== undefined && v.length < nested.min_items) problems.push(`${where} has ${v.length} block(s), needs at least ${nested.min_items}`);
  if (nested.max_items !== undefined && v.length > nested.max_items) problems.push(`${where} has ${v.length} block(s), allows at most ${nested.max_items}`);
  v.forEach((item, i) => {
    problems.push(...(isObject(item) ? checkAgainstSchema(item, nested.block, `${where}[${i}]`) : [`${where}[${i}] must be a block`]));
  });
  return problems;
}

function typeProblem(v: unknown, type: unknown): string | undefined {
  if (typeof v === "string" && v.includes("${")) return undefined;
  const want = typeof type === "string" ? type : Array.isArray(type) ? type[0] : undefined;
  const got = Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  const ok: Record<string, string[]> = {
    string: ["string"], number: ["number"], bool: ["boolean"],
    list: ["list"], set: ["list"], map: ["object"], object: ["object"],
  };
  if (want === undefined || !(want in ok)) return undefined;
  return ok[want].includes(got) ? undefined : `should be a ${want}, is a ${got}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What is wrong with a synthesized stack's libvirt resources of `types`, against the provider schema. */
export function resourceProblems(json: any, schema: ProviderSchema, types: readonly string[]): string[] {
  const problems: string[] = [];
  for (const type of types) {
    const block = schema.resources[type];
    if (!block) {
      problems.push(`${type} is not a resource of the provider`);
      continue;
    }
    for (const [name, body] of Object.entries<any>(json.resource[type])) {
      problems.push(...checkAgainstSchema(body, block, `${type}.${name}`, RESOURCE_META_KEYS));
    }
  }
  return problems;
}

/** What is wrong with a synthesized stack's libvirt provider blocks, against the provider schema. */
export function providerProblems(json: any, schema: ProviderSchema): string[] {
  return (json.provider.libvirt as any[]).flatMap((p, i) => checkAgainstSchema(p, schema.provider, `provider.libvirt[${i}]`, PROVIDER_META_KEYS));
}
