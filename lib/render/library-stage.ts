import { heredoc, shellWord } from "../net";
import { ResolvedLab } from "../model";
import { teardownScript } from "./script";
import { HELPER_LIBRARY, HELPER_LIBRARY_DIR, HELPER_LIBRARY_DIR_WORD, HELPER_LIBRARY_NAME } from "./shell";
import { Runner, Stage } from "./stage";

/** The library stage of a machine: one per emulated lab (every namespace shares one file system), else one per host. */
export function libraryStageId(host?: string): string {
  return host === undefined ? "helpers" : `helpers/${host}`;
}

/** Takes the machine-wide lock that holders change under: on /run, which every machine has; bounded, since anyone may hold it. */
const LOCK = [
  "exec 9</run",
  'flock -w 60 9 || { echo "cloudnet: the lock on /run has been held for 60 s (another lab deploying on this machine, or another program): try again" >&2; exit 1; }',
];

/**
 * Every existing directory on the way to the library must be root's (or the running user's) and
 * writable by no one else unless sticky (/tmp): every stage sources the file as root, so anyone who
 * could rename a directory on that way could put code there.
 */
const CHECK_PATH = [
  'x=$(realpath -m "$d")',
  "while :; do",
  '  if [ -e "$x" ] && { ! { [ -O "$x" ] || [ "$(stat -c %u "$x")" = 0 ]; } || { [ -n "$(find "$x" -maxdepth 0 -perm /022)" ] && [ ! -k "$x" ]; }; }; then',
  '    echo "cloudnet: $x belongs to another user or others may write to it: refusing to keep the helper library under it; remove it or fix its owner and mode" >&2; exit 1',
  "  fi",
  '  [ "$x" != / ] || break',
  '  x=$(dirname "$x")',
  "done",
];

/**
 * Puts the helper library in place on one machine, before every other stage there (they source it)
 * and removed after them. Labs on one machine share the file, which keeps a holder file per lab and
 * machine beside it; the last holder to go removes it. Holders change under a lock on /run, so two
 * labs deployed at once never remove the file from under each other.
 */
export function libraryStage(lab: ResolvedLab, host?: string): Stage {
  const runOn: Runner = host === undefined ? { kind: "controller" } : { kind: "host", host };
  const holder = shellWord(host === undefined ? lab.prefix : `${lab.prefix}@${host}`);
  const name = HELPER_LIBRARY_NAME;
  const title = `helper library ${name}${host === undefined ? "" : ` on ${shellWord(host)}`}`;
  const dir = [`d=${HELPER_LIBRARY_DIR_WORD}`, "d=${d%/}"];
  return {
    id: libraryStageId(host),
    runOn,
    title,
    after: [],
    apply: [
      "set -Eeuo pipefail",
      // Whatever the operator's umask: the check wants the directories root's alone.
      "umask 022",
      ...dir,
      ...LOCK,
      ...CHECK_PATH,
      `mkdir -p "$d/${name}.holders"`,
      // Written whole under a name of its own, then renamed: no stage ever sources half of it.
      `t=$(mktemp "$d/.${name}.XXXXXX")`,
      `trap 'rm -f "$t"' EXIT`,
      heredoc('cat > "$t"', HELPER_LIBRARY),
      'chmod 0644 "$t"',
      `mv -f "$t" "$d/${name}.sh"`,
      `: > "$d/${name}.holders/${holder}"`,
      `echo 'cloudnet: ${title}' >&2`,
      "",
    ].join("\n"),
    teardown: teardownScript(title, [
      ...dir,
      '[ -d "$d" ] || exit 0',
      ...LOCK,
      `rm -f "$d/${name}.holders/${holder}"`,
      `if rmdir "$d/${name}.holders" 2>/dev/null; then rm -f "$d/${name}.sh" "$d/.${name}."*; fi`,
      'rmdir "$d" 2>/dev/null || true',
      // The default's parent goes too once empty; the parent of a directory given in CLOUDNET_LIB is not the lab's.
      `[ -n "\${CLOUDNET_LIB:-}" ] || rmdir ${HELPER_LIBRARY_DIR.replace(/\/[^/]*$/, "")} 2>/dev/null || true`,
    ]),
  };
}
