#!/usr/bin/env node
// Generates the libvirt provider bindings from a saved provider schema, offline.
// Usage: node scripts/gen-libvirt.js <schema.json> <outdir>  ->  <outdir>/providers/libvirt/...
// The generator module is imported directly: the package index would load jsii, which we do not need.
const fs = require("fs");
const { CodeMaker } = require("codemaker");
const { TerraformProviderGenerator } = require("@cdktf/provider-generator/lib/get/generator/provider-generator");
const { ConstructsMakerProviderTarget, TerraformProviderConstraint } = require("@cdktf/commons");

async function main() {
  const [schemaFile, outdir] = process.argv.slice(2);
  if (!schemaFile || !outdir) throw new Error("usage: gen-libvirt.js <schema.json> <outdir>");
  const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
  // Pins required_providers to 0.8.3: 0.9.x is a rewrite whose schema does not fit these bindings.
  schema.provider_versions = { "registry.terraform.io/dmacvicar/libvirt": "0.8.3" };
  const code = new CodeMaker();
  new TerraformProviderGenerator(code, schema).generate(
    new ConstructsMakerProviderTarget(new TerraformProviderConstraint("dmacvicar/libvirt@~> 0.8.3"), "typescript"),
  );
  await code.save(outdir);
}
main().catch((e) => { console.error(e); process.exit(1); });
