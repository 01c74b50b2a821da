#!/usr/bin/env node
// Builds the cdktn-cloudnet package (the library on CDK Terrain) into <outdir> from a compiled
// build of this repository (tsc -p tsconfig.build.json): the same code, with each import of cdktf rewritten to
// cdktn. The Docker bindings come from @cdktf/provider-docker, which CDK Terrain has no counterpart
// of: the modules the library uses are shipped inside the package (dist/vendor), rewritten alike.
// Usage: node flavours/cdktn/build.js <builddir> <outdir>   (scripts/pack.sh cdktn runs it)
const fs = require("fs");
const path = require("path");

const REPO = path.resolve(__dirname, "..", "..");
const DOCKER = path.join(REPO, "node_modules", "@cdktf", "provider-docker");
// What cdktn 0.24 itself asks of its users (its peerDependencies).
const PEERS = { cdktn: "^0.24.0", constructs: ">=10.6.0 <10.8.0" };

// A module specifier in JavaScript (require("…")) or in declarations (from "…", import("…")).
const SPECIFIER = /((?:require|import)\(|from )(["'])([^"']+)\2/g;
// Any string naming cdktf or its subpaths, or a @cdktf/ package, however it is used: wider than
// SPECIFIER on purpose, so a form the rewrite does not know (require.resolve, a template literal,
// a triple-slash reference) fails the build instead of shipping.
// (jsii's type names, "@cdktf/provider-docker.image.Image", are not module paths.)
const MENTION = /["'`](cdktf|@cdktf\/[a-z0-9-]+)(\/[^"'`]*)?["'`]/;

function main() {
  const [build, out] = process.argv.slice(2);
  if (!build || !out) throw new Error("usage: node flavours/cdktn/build.js <builddir> <outdir>");
  const dist = path.resolve(build);
  if (!fs.existsSync(path.join(dist, "lib", "index.js"))) throw new Error(`${dist} has no build: run tsc -p tsconfig.build.json --outDir ${build}`);
  fs.rmSync(out, { recursive: true, force: true });
  const vendored = new Set();
  for (const file of walk(dist)) {
    const rel = path.relative(dist, file);
    copyRewritten(file, path.join(out, "dist", rel), (spec) => {
      const docker = spec.match(/^@cdktf\/provider-docker\/(lib\/[a-z-]+)$/);
      if (!docker) return spec;
      vendored.add(docker[1]);
      return relativeSpecifier(path.join("dist", rel), path.join("dist", "vendor", "provider-docker", docker[1]));
    });
  }
  for (const mod of vendored) {
    for (const ext of ["index.js", "index.d.ts"]) {
      copyRewritten(path.join(DOCKER, mod, ext), path.join(out, "dist", "vendor", "provider-docker", mod, ext), (spec) => {
        if (spec.startsWith(".")) throw new Error(`${mod}/${ext} imports ${spec}: vendor it too`);
        return spec;
      });
    }
  }
  if (vendored.size > 0) fs.copyFileSync(path.join(DOCKER, "LICENSE"), path.join(out, "dist", "vendor", "provider-docker", "LICENSE"));
  for (const f of ["README.md", path.join("bin", "cloudnet.js")]) {
    fs.mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(out, f));
  }
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(manifest(), null, 2) + "\n");
  const left = [...walk(out)].filter((f) => /\.(js|ts)$/.test(f) && mentionsCdktf(fs.readFileSync(f, "utf8")));
  if (left.length) throw new Error(`still naming cdktf (a form of import the rewrite does not know?): ${left.join(", ")}`);
}

/** Whether a file still names cdktf or a @cdktf/ package in a string, in any form. */
function mentionsCdktf(text) {
  return MENTION.test(text);
}

/** The package's manifest: the repository's, renamed, on cdktn's peers, without the cdktf-only dependency. */
function manifest() {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
  const dependencies = { ...pkg.dependencies };
  delete dependencies["@cdktf/provider-docker"];
  return {
    name: "cdktn-cloudnet",
    version: pkg.version,
    description: pkg.description.replace("CDK for Terraform", "CDK Terrain (cdktn)"),
    // The vendored Docker bindings are MPL-2.0 (their LICENSE ships with them).
    license: `(${pkg.license} AND MPL-2.0)`,
    main: pkg.main,
    types: pkg.types,
    bin: pkg.bin,
    files: [...pkg.files, "dist/vendor/**/*.js", "dist/vendor/**/*.d.ts", "dist/vendor/**/LICENSE"],
    engines: pkg.engines,
    peerDependencies: PEERS,
    dependencies,
  };
}

function copyRewritten(from, to, extra) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  if (!/\.(js|d\.ts)$/.test(from)) return fs.copyFileSync(from, to);
  fs.writeFileSync(to, rewrite(fs.readFileSync(from, "utf8"), extra));
}

/** A file's text with each module specifier passed through `platform`, then through `extra`. */
function rewrite(text, extra = (spec) => spec) {
  return text.replace(SPECIFIER, (all, head, q, spec) => `${head}${q}${extra(platform(spec))}${q}`);
}

/** cdktf and its subpaths (cdktf/lib/…) become cdktn's: the same modules under the fork's name. */
function platform(spec) {
  return spec === "cdktf" || spec.startsWith("cdktf/") ? "cdktn" + spec.slice("cdktf".length) : spec;
}

function relativeSpecifier(fromFile, toModule) {
  const rel = path.relative(path.dirname(fromFile), toModule);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

module.exports = { rewrite, mentionsCdktf };
if (require.main === module) main();
