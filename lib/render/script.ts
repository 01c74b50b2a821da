import { sh } from "../net";
import { HELPER_LIBRARY, HELPER_LIBRARY_DIR_WORD, HELPER_LIBRARY_NAME, usedHelpers } from "./shell";

/** How an apply script finds the helper library (see `libraryStage`), and what it says when it is not there. */
const SOURCE_LIBRARY = [
  // -E: the ERR trap (rollback) also fires for failures inside helper functions.
  "set -Eeuo pipefail",
  `cn_lib=${HELPER_LIBRARY_DIR_WORD}/${HELPER_LIBRARY_NAME}.sh`,
  `if [ ! -r "$cn_lib" ]; then echo "cloudnet: the helper library $cn_lib is missing; the lab's helpers stage puts it there (if this machine was rebooted, destroy the lab and deploy it again)" >&2; exit 1; fi`,
  '. "$cn_lib"',
].join("\n");

/**
 * An apply script: the helper library, then `body`. If any command fails, the stage's teardown runs
 * before the error is returned, so a failed apply leaves nothing half-built behind.
 */
export function applyScript(title: string, body: readonly string[], teardown: readonly string[]): string {
  return [
    SOURCE_LIBRARY,
    "cn_rollback() {",
    ...indent(teardown.length ? teardown : [":"]),
    "}",
    `trap 'rc=$?; cn_log "apply failed (exit $rc), rolling back"; set +e; cn_rollback; exit $rc' ERR`,
    `cn_log ${quoteTitle(title)}`,
    ...body,
    "",
  ].join("\n");
}

/**
 * A teardown script: removes only what the lab owns, and succeeds when it is already gone. It carries
 * the helpers it uses, so that it runs on a machine whatever happened to the library file.
 */
export function teardownScript(title: string, body: readonly string[]): string {
  return selfContained([`cn_log ${quoteTitle(`remove ${title}`)}`, ...body, ""].join("\n"));
}

/** `code` after the definitions of the library's helpers that it uses. */
function selfContained(code: string): string {
  return `set -Eeuo pipefail\n${usedHelpers(HELPER_LIBRARY, code)}\n${code}`;
}

/**
 * The teardown of every stage but the owners: nothing. Terraform runs it before a replacement too,
 * and a replaced stage's apply converges what is there, so removing first would only open a gap.
 */
export function keepOnTeardown(title: string): string {
  return teardownScript(title, [": # kept: the lab's owner stage removes it on destroy, the converge stage once it is no longer declared"]);
}

/** Rollback lines that remove namespace `ns` only if this run created it (a re-apply keeps what was there). */
export function freshNetns(ns: string, rollback: string): { check: string; rollback: string } {
  return { check: sh`cn_fresh=1; [ ! -e /run/netns/${ns} ] || cn_fresh=0`, rollback: `if [ "\${cn_fresh:-0}" = 1 ]; then ${rollback}; fi` };
}

function indent(lines: readonly string[]): string[] {
  return lines.map((l) => `  ${l}`);
}

/** Titles are built from validated names only; single-quoting keeps them one word. */
function quoteTitle(title: string): string {
  if (/[^A-Za-z0-9 _.:/@%+=,()-]/.test(title)) throw new Error(`unexpected character in stage title '${title}'`);
  return `'${title}'`;
}
