import { heredoc, shellWord } from "../net";
import { ResolvedLab } from "../model";
import { teardownScript } from "./script";
import { HELPER_LIBRARY, HELPER_LIBRARY_DIR_WORD, HELPER_LIBRARY_NAME } from "./shell";
import { Runner, Stage } from "./stage";

/** The library stage of a machine: one per emulated lab (every namespace shares one file system), else one per host. */
export function libraryStageId(host?: string): string {
  return host === undefined ? "helpers" : `helpers/${host}`;
}

/**
 * Puts the helper library in place on one machine, before every other stage there (they source it)
 * and removed after them. Labs on one machine share the file, which keeps a holder file per lab and
 * machine beside it; the last holder to go removes it. Holders change under a lock on /run, so two
 * labs deployed at once never remove the file from under each other.
 */
export function libraryStage(lab: ResolvedLab, host?: string): Stage {
  const runOn: Runner = host === undefined ? { kind: "controller" } : { kind: "host", host };
  const holder = host === undefined ? lab.prefix : `${lab.prefix}@${host}`;
  const file = `"$d"/${HELPER_LIBRARY_NAME}.sh`;
  const holders = `"$d"/${HELPER_LIBRARY_NAME}.holders`;
  const title = `helper library ${HELPER_LIBRARY_NAME}${host === undefined ? "" : ` on ${shellWord(host)}`}`;
  const lock = ["exec 9</run", "flock 9"];
  return {
    id: libraryStageId(host),
    runOn,
    title,
    after: [],
    apply: [
      "set -Eeuo pipefail",
      `d=${HELPER_LIBRARY_DIR_WORD}`,
      ...lock,
      `trap 'rm -f ${file}.tmp' EXIT`,
      // Whatever the operator's umask: the checks below want the directories root's alone.
      "umask 022",
      'mkdir -p "$d"',
      // Every stage sources the file as root: its directories must be root's alone, or another user
      // of the machine could put code there.
      'for x in "${d%/*}" "$d"; do',
      '  if [ ! -O "$x" ] || [ -n "$(find "$x" -maxdepth 0 -perm /022)" ]; then echo "cloudnet: $x belongs to another user or others may write to it: refusing to keep the helper library there; remove it or fix its owner and mode" >&2; exit 1; fi',
      "done",
      `mkdir -p ${holders}`,
      // The file is written whole, then renamed: a stage of another lab never sources half of it.
      heredoc(`cat > ${file}.tmp`, HELPER_LIBRARY),
      `mv -f ${file}.tmp ${file}`,
      `: > ${holders}/${shellWord(holder)}`,
      `echo 'cloudnet: ${title}' >&2`,
      "",
    ].join("\n"),
    teardown: teardownScript(title, [
      `d=${HELPER_LIBRARY_DIR_WORD}`,
      '[ -d "$d" ] || exit 0',
      ...lock,
      `rm -f ${holders}/${shellWord(holder)}`,
      `if rmdir ${holders} 2>/dev/null; then rm -f ${file}; fi`,
      // Last of the lab's stages on the machine: its parent (/run/cloudnet) goes too if nothing else is there.
      `rmdir "$d" "\${d%/*}" 2>/dev/null || true`,
    ]),
  };
}
