import { terraformLiteral } from "./terraform-literal";

/** Name prefix of the environment variables that carry a script. */
export const SCRIPT_VAR = "CLOUDNET_SCRIPT_";
/**
 * The kernel caps one environment string at 128 KiB (MAX_ARG_STRLEN), so long scripts travel in
 * chunks; the launcher joins them into a file.
 */
export const CHUNK_BYTES = 100_000;

/** Splits an ASCII script into environment variables CLOUDNET_SCRIPT_0, _1, ... */
export function scriptEnvironment(script: string): Record<string, string> {
  if (!/^[\x00-\x7f]*$/.test(script)) throw new Error("host scripts must be ASCII");
  const env: Record<string, string> = {};
  for (let i = 0, n = 0; i < script.length || n === 0; i += CHUNK_BYTES, n++) {
    env[`${SCRIPT_VAR}${n}`] = terraformLiteral(script.slice(i, i + CHUNK_BYTES));
  }
  return env;
}

/**
 * A fixed bash program that joins the script chunks from the environment into a private temporary
 * file and runs it with `runner` (e.g. `nsenter --net=/run/netns/lab-h1`) in front. It contains no lab data,
 * so the destroy-time provisioner can use it too. With `skipIfNetnsGone` (teardown inside an
 * emulated host) it succeeds at once when that namespace no longer exists.
 */
export function launcher(runner: readonly string[], options: { skipIfNetnsGone?: string } = {}): string {
  const ns = options.skipIfNetnsGone;
  // Tearing down inside a namespace that is already gone has nothing left to remove.
  const skip = ns ? [`if [ ! -e /run/netns/${ns} ]; then echo "cloudnet: namespace ${ns} is gone, nothing to remove" >&2; exit 0; fi`] : [];
  return terraformLiteral([
    "set -euo pipefail",
    ...skip,
    "f=$(mktemp /tmp/cloudnet.XXXXXX)",
    "trap 'rm -f \"$f\"' EXIT",
    `for ((i = 0; ; i++)); do v="${SCRIPT_VAR}$i"; [[ -v $v ]] || break; printf '%s' "\${!v}"; done > "$f"`,
    `${[...runner, "/bin/bash", '"$f"'].join(" ")}`,
  ].join("\n"));
}
