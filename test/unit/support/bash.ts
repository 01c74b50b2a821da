import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELPER_LIBRARY, HELPER_LIBRARY_NAME } from "../../../lib/render";

export interface BashResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a bash program without root; `env` is added to the test's environment. */
export function runBash(script: string, env: Record<string, string> = {}): BashResult {
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, CLOUDNET_LIB: helperLibraryDir(), ...env } });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * A directory with a fake `ip` that records its arguments (one call per line in `log`) and fails,
 * so a host script can be run without root and without touching the machine.
 */
export function failingIp(): { dir: string; log: string; env: Record<string, string>; calls: () => string[]; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-unit-"));
  const log = path.join(dir, "ip.log");
  fs.writeFileSync(path.join(dir, "ip"), `#!/bin/sh\necho "$*" >> '${log}'\nexit 1\n`, { mode: 0o755 });
  return {
    dir, log,
    env: { PATH: `${dir}:${process.env.PATH}` },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

let libraryDir: string | undefined;

/**
 * A private directory holding the helper library, as the library stage puts it on a machine: apply
 * scripts source it from `$CLOUDNET_LIB`. Made once per test file, removed when the process exits.
 */
export function helperLibraryDir(): string {
  if (!libraryDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-lib-"));
    fs.writeFileSync(path.join(dir, `${HELPER_LIBRARY_NAME}.sh`), HELPER_LIBRARY);
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    libraryDir = dir;
  }
  return libraryDir;
}
