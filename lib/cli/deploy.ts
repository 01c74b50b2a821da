import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { createInterface } from "readline";
import { DeployProgress } from "./deploy-progress";
import { PLATFORM_CLI } from "./platform";

export interface DeployOptions {
  /** The cdktf project (where cdktf.json is). @default the current directory */
  readonly dir?: string;
  /** More arguments for cdktf, e.g. a stack name. */
  readonly args?: readonly string[];
  readonly print?: (line: string) => void;
}

/** The platform's variable naming its CLI: CDKTF_BIN, or CDKTN_BIN on CDK Terrain. */
export const CLI_VARIABLE = `${PLATFORM_CLI.toUpperCase()}_BIN`;

/**
 * The platform's CLI to run (cdktf, or cdktn on CDK Terrain): $CDKTF_BIN (or $CDKTN_BIN), the
 * project's own, this package's (in its repository), or the one on PATH.
 */
export function cdktfBinary(dir: string): string {
  const candidates = [
    process.env[CLI_VARIABLE],
    path.join(dir, "node_modules", ".bin", PLATFORM_CLI),
    path.join(__dirname, "..", "..", "node_modules", ".bin", PLATFORM_CLI),
    path.join(__dirname, "..", "..", "..", "node_modules", ".bin", PLATFORM_CLI),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? PLATFORM_CLI;
}

/**
 * `cdktf deploy|destroy --auto-approve` with one line per stage as it completes and a summary; the
 * full output goes to `.cloudnet/logs/<verb>-<time>.log` in the project. Resolves to cdktf's exit status.
 */
export function runCdktf(verb: "deploy" | "destroy", options: DeployOptions = {}): Promise<number> {
  const dir = path.resolve(options.dir ?? ".");
  const print = options.print ?? ((l: string) => console.log(l));
  if (!fs.existsSync(path.join(dir, "cdktf.json"))) {
    print(`cloudnet: ${dir} has no cdktf.json; run this in your ${PLATFORM_CLI} project, or pass its directory.`);
    return Promise.resolve(2);
  }
  const logDir = path.join(dir, ".cloudnet", "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${verb}-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
  const log = fs.createWriteStream(logFile);
  const progress = new DeployProgress(verb, print);
  const shown = path.relative(process.cwd(), logFile) || logFile;
  print(`cloudnet: ${verb === "deploy" ? "deploying" : "destroying"} ${dir} with ${PLATFORM_CLI} ${verb} (full log: ${shown})`);
  // CI=true: cdktf prints plain lines instead of its interactive view.
  const child = spawn(cdktfBinary(dir), [verb, "--auto-approve", ...(options.args ?? [])], {
    cwd: dir,
    env: { ...process.env, CI: "true", FORCE_COLOR: "0", NO_COLOR: "1", CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (l) => {
      log.write(`${l}\n`);
      progress.line(l);
    });
  }
  return new Promise((resolve) => {
    child.on("error", (e) => {
      print(`cloudnet: cannot run ${PLATFORM_CLI} (${e.message}); install ${PLATFORM_CLI}-cli, or set ${CLI_VARIABLE} to its path.`);
      resolve(127);
    });
    child.on("close", (code) => {
      const status = code ?? 1;
      log.end(() => {
        progress.finish(status, shown);
        resolve(status);
      });
    });
  });
}
