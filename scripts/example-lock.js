#!/usr/bin/env node
// Writes an example project's package-lock.json from this repository's own lock: the same versions
// at the same places, only those the example needs, plus the packed library. So `npm ci --offline`
// in the example installs from the npm cache that this repository's `npm ci` filled, without the
// registry. Usage: node scripts/example-lock.js examples/team-repo
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const dir = path.resolve(process.argv[2] ?? "examples/team-repo");
const ours = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
const app = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
const lib = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const tarball = app.dependencies[lib.name];
if (!tarball?.startsWith("file:")) throw new Error(`${dir}/package.json must depend on ${lib.name} as file:<tarball>`);

// The library's entry, as npm writes it for a tarball (no integrity: the tarball changes with every build).
const libEntry = {
  version: lib.version, resolved: tarball, license: lib.license, dependencies: lib.dependencies,
  bin: lib.bin, engines: lib.engines, peerDependencies: lib.peerDependencies,
};
const packages = { ...ours.packages, [`node_modules/${lib.name}`]: libEntry };

/** Where Node finds `dep` from the package at `at`: the nearest node_modules up the tree. */
function locate(at, dep) {
  for (let p = at; ; p = p.slice(0, Math.max(0, p.lastIndexOf("/node_modules/")))) {
    const candidate = `${p ? `${p}/` : ""}node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!p) return undefined;
  }
}

const kept = new Map(); // path -> dev?
function keep(at, deps, dev, optional = {}) {
  for (const dep of Object.keys({ ...deps, ...optional })) {
    const found = locate(at, dep);
    // Optional and peer dependencies that our own install left out stay out (npm ci does the same).
    if (!found && !(dep in (deps ?? {}))) continue;
    if (!found) throw new Error(`${dep} (needed by ${at || "the example"}) is not in ${root}/package-lock.json; add it there first`);
    if (kept.has(found) && (dev || !kept.get(found))) continue;
    kept.set(found, dev);
    const p = packages[found];
    keep(found, p.dependencies, dev, { ...p.peerDependencies, ...p.optionalDependencies });
  }
}
keep("", app.dependencies, false);
keep("", app.devDependencies, true);

const out = {
  name: app.name, version: app.version, lockfileVersion: 3, requires: true,
  packages: {
    "": { name: app.name, version: app.version, dependencies: app.dependencies, devDependencies: app.devDependencies },
    ...Object.fromEntries([...kept.keys()].sort().map((k) => {
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[k];
      return [k, { ...entry, ...(kept.get(k) ? { dev: true } : {}) }];
    })),
  },
};
fs.writeFileSync(path.join(dir, "package-lock.json"), `${JSON.stringify(out, null, 2)}\n`);
console.log(`cloudnet: wrote ${path.relative(root, dir)}/package-lock.json (${kept.size} packages)`);
