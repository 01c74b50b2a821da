import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..");
const CDKTF = path.join(REPO, "node_modules", ".bin", "cdktf");
const TS_NODE = path.join(REPO, "node_modules", ".bin", "ts-node");

export interface CdktfResult {
  status: number;
  output: string;
}

/**
 * A throw-away cdktf project around one app file (a fixture under test/e2e/fixtures), so a test's
 * state and lab never mix with the demo's. `env` reaches the app (e.g. the lab name to use).
 */
export class CdktfProject {
  readonly dir: string;
  /** The platform's CLI and the directory put first on PATH for it (Node 22 for cdktn-cli). */
  private cli: { bin: string; pathFirst?: string } = { bin: CDKTF };

  /**
   * `env` reaches the app; `wrapper` runs cdktf under another command, e.g. nsenter into a network
   * namespace that then plays the machine Terraform runs on.
   */
  constructor(appFile: string, private readonly env: Record<string, string> = {}, private readonly wrapper: readonly string[] = [], dir?: string) {
    this.dir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-e2e-"));
    if (!dir) {
      const app = `${TS_NODE} --transpile-only --project ${path.join(REPO, "tsconfig.json")} ${path.resolve(appFile)}`;
      fs.writeFileSync(path.join(this.dir, "cdktf.json"), JSON.stringify({ language: "typescript", app, sendCrashReports: "false" }));
    }
    fs.writeFileSync(path.join(this.dir, "empty.tfrc"), "");
  }

  /** A project that has its own cdktf.json (and app), e.g. a copy of examples/team-repo. */
  static inDir(dir: string, env: Record<string, string> = {}): CdktfProject {
    return new CdktfProject("", env, [], dir);
  }

  /** Runs another platform's CLI from now on, e.g. a cdktn project's own cdktn under Node 22. */
  useCli(bin: string, pathFirst?: string): this {
    this.cli = { bin, pathFirst };
    return this;
  }

  /** Sets a variable the app sees from the next command on (e.g. which version of a lab to build). */
  set(name: string, value: string): void {
    this.env[name] = value;
  }

  /** Runs `cdktf <args>` (or the CLI `useCli` chose) in the project; never throws. */
  cdktf(args: readonly string[], timeoutMs = 300_000): CdktfResult {
    const [cmd, ...rest] = [...this.wrapper, this.cli.bin, ...args];
    const r = spawnSync(cmd, rest, {
      cwd: this.dir,
      encoding: "utf8",
      timeout: timeoutMs,
      env: {
        ...process.env,
        ...this.env,
        ...(this.cli.pathFirst ? { PATH: `${this.cli.pathFirst}:${process.env.PATH}` } : {}),
        CI: "true",
        CHECKPOINT_DISABLE: "1",
        TF_CLI_CONFIG_FILE: path.join(this.dir, "empty.tfrc"),
        FORCE_COLOR: "0",
        NO_COLOR: "1",
      },
    });
    return { status: r.status ?? 1, output: stripAnsi(`${r.stdout ?? ""}${r.stderr ?? ""}`) };
  }

  deploy(): CdktfResult {
    return this.cdktf(["deploy", "--auto-approve"]);
  }

  destroy(): CdktfResult {
    return this.cdktf(["destroy", "--auto-approve"]);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}
