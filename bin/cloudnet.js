#!/usr/bin/env node
// Runs the compiled CLI when the package is built, else the TypeScript source through ts-node.
const path = require("path");
const fs = require("fs");
const built = path.join(__dirname, "..", "dist", "lib", "cli", "main.js");
let cli;
if (fs.existsSync(built)) {
  cli = require(built);
} else {
  require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
  cli = require("../lib/cli/main.ts");
}
process.exitCode = cli.main(process.argv.slice(2));
