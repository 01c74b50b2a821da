#!/usr/bin/env node
// In this repository, runs the TypeScript sources through ts-node (so a dist/ left by a build can
// never be stale); in an installed package, which ships no sources, the compiled CLI.
const path = require("path");
const fs = require("fs");
const source = path.join(__dirname, "..", "lib", "cli", "main.ts");
let cli;
if (fs.existsSync(source)) {
  require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
  cli = require(source);
} else {
  cli = require(path.join(__dirname, "..", "dist", "lib", "cli", "main.js"));
}
Promise.resolve(cli.main(process.argv.slice(2))).then((status) => { process.exitCode = status; });
