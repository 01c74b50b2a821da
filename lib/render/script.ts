import { sh } from "../net";
import { usedHelpers } from "./shell-helpers";

/**
 * Helpers every script starts with. Static text: no value from the lab is interpolated here.
 * Each one is idempotent, so that applying a stage twice changes nothing the second time.
 */
const PRELUDE = [
  // -E: the ERR trap (rollback) also fires for failures inside helper functions.
  "set -Eeuo pipefail",
  "cn_log() { printf 'cloudnet: %s\\n' \"$*\" >&2; }",
  "cn_netns_add() { [ -e \"/run/netns/$1\" ] || ip netns add \"$1\"; }",
  "# cn_netns_del NETNS [DEV...]: deletes the named veths first (synchronously: the kernel frees a",
  "# namespace's devices only later), kills what runs inside, waits for it, then removes the namespace.",
  "cn_netns_del() {",
  "  [ -e \"/run/netns/$1\" ] || return 0",
  "  local ns=$1 dev pids i; shift",
  "  for dev in \"$@\"; do ip -n \"$ns\" link del dev \"$dev\" 2>/dev/null || true; done",
  "  pids=$(ip netns pids \"$ns\")",
  "  if [ -n \"$pids\" ]; then kill -9 $pids 2>/dev/null || true; fi",
  "  for i in $(seq 50); do [ -z \"$(ip netns pids \"$ns\")\" ] && break; sleep 0.1; done",
  "  ip netns del \"$ns\"",
  "}",
  "# cn_link_missing DEV [NETNS]",
  "cn_link_missing() { ! ip ${2:+-n \"$2\"} link show dev \"$1\" >/dev/null 2>&1; }",
  "cn_link_del() { if ! cn_link_missing \"$1\" \"${2:-}\"; then ip ${2:+-n \"$2\"} link del dev \"$1\"; fi; }",
  "# cn_addrs_only NETNS DEV LEN ADDRESS/LEN...: removes DEV's global addresses that are not listed",
  "# (only those of prefix length LEN, unless LEN is 'any'); NETNS '-' is the current namespace.",
  "cn_addrs_only() {",
  "  local ns=$1 dev=$2 len=$3 a ipn=(ip); shift 3",
  "  [ \"$ns\" = - ] || ipn=(ip -n \"$ns\")",
  "  local want=\" $* \"",
  "  for a in $(\"${ipn[@]}\" -o addr show dev \"$dev\" scope global 2>/dev/null | awk '{ print $4 }'); do",
  "    [ \"$len\" = any ] || [ \"${a#*/}\" = \"$len\" ] || continue",
  "    case \"$want\" in *\" $a \"*) ;; *) cn_log \"remove address $a from $dev\"; \"${ipn[@]}\" addr del \"$a\" dev \"$dev\" ;; esac",
  "  done",
  "}",
  "# cn_routes_only NETNS DEST...: removes the routes of NETNS that `ip route replace` added (proto boot), IPv4 and IPv6, to destinations not listed.",
  "cn_routes_only() {",
  "  local ns=$1 r f; shift",
  "  local want=\" $* \"",
  "  for f in -4 -6; do",
  "    for r in $(ip -n \"$ns\" $f -o route show proto boot 2>/dev/null | awk '{ print $1 }'); do",
  "      [ \"$r\" = default ] && continue",
  "      case \"$want\" in *\" $r \"*|*\" $r/32 \"*|*\" $r/128 \"*) ;; *) cn_log \"remove route to $r\"; ip -n \"$ns\" $f route del \"$r\" ;; esac",
  "    done",
  "  done",
  "}",
  "# cn_fdb_only NETNS DEV KIND ENTRY...: exactly these static forwarding entries on DEV. KIND 'master': the bridge's",
  "# entries for the port DEV (ENTRY is a MAC; sticky, so that no frame's source moves them); KIND 'self': a VXLAN",
  "# device's own entries (ENTRY is MAC@REMOTE). Flood entries (the all-zero MAC) are cn_flood's.",
  "cn_fdb_only() {",
  "  local ns=$1 dev=$2 kind=$3 e have br=(bridge); shift 3",
  "  [ \"$ns\" = - ] || br=(ip netns exec \"$ns\" bridge)",
  "  local want=\" $* \"",
  "  if [ \"$kind\" = master ]; then",
  "    have=\" $(\"${br[@]}\" fdb show dev \"$dev\" | awk '/ master / && / static/ { printf \"%s \", $1 }') \"",
  "  else",
  "    have=\" $(\"${br[@]}\" fdb show dev \"$dev\" | awk '$1 != \"00:00:00:00:00:00\" && / self / { for (i = 2; i < NF; i++) if ($i == \"dst\") printf \"%s@%s \", $1, $(i + 1) }') \"",
  "  fi",
  "  for e in $have; do",
  "    case \"$want\" in *\" $e \"*) continue ;; esac",
  "    if [ \"$kind\" = master ]; then \"${br[@]}\" fdb del \"$e\" dev \"$dev\" master; else \"${br[@]}\" fdb del \"${e%@*}\" dev \"$dev\" dst \"${e#*@}\" self; fi",
  "  done",
  "  for e in \"$@\"; do",
  "    case \"$have\" in *\" $e \"*) continue ;; esac",
  "    if [ \"$kind\" = master ]; then \"${br[@]}\" fdb replace \"$e\" dev \"$dev\" master static sticky; else \"${br[@]}\" fdb replace \"${e%@*}\" dev \"$dev\" dst \"${e#*@}\" self permanent; fi",
  "  done",
  "}",
  "# cn_ll_only NETNS DEV ADDRESS/64: DEV's one IPv6 link-local address, set by the lab (the kernel makes none).",
  "cn_ll_only() {",
  "  local a",
  "  ip -n \"$1\" link set dev \"$2\" addrgenmode none",
  "  for a in $(ip -n \"$1\" -6 -o addr show dev \"$2\" scope link | awk '{ print $4 }'); do",
  "    [ \"$a\" = \"$3\" ] || ip -n \"$1\" -6 addr del \"$a\" dev \"$2\"",
  "  done",
  "  ip -n \"$1\" -6 addr replace \"$3\" dev \"$2\" nodad",
  "}",
  "# cn_mac DEV MAC [NETNS]: sets DEV's address only where it differs (setting it again would notify for nothing).",
  "cn_mac() { [ \"$(ip ${3:+-n \"$3\"} -br link show dev \"$1\" | awk '{ print $3 }')\" = \"$2\" ] || ip ${3:+-n \"$3\"} link set dev \"$1\" address \"$2\"; }",
].join("\n");

/**
 * An apply script: the prelude, then `body`. If any command fails, the stage's teardown runs
 * before the error is returned, so a failed apply leaves nothing half-built behind.
 */
export function applyScript(title: string, body: readonly string[], teardown: readonly string[], helpers: readonly string[] = []): string {
  return withHelpers(helpers, [
    "cn_rollback() {",
    ...indent(teardown.length ? teardown : [":"]),
    "}",
    `trap 'rc=$?; cn_log "apply failed (exit $rc), rolling back"; set +e; cn_rollback; exit $rc' ERR`,
    `cn_log ${quoteTitle(title)}`,
    ...body,
    "",
  ].join("\n"));
}

/** A teardown script: removes only what the lab owns, and succeeds when it is already gone. */
export function teardownScript(title: string, body: readonly string[], helpers: readonly string[] = []): string {
  return withHelpers(helpers, [`cn_log ${quoteTitle(`remove ${title}`)}`, ...body, ""].join("\n"));
}

/** `code` after the prelude's and `helpers`' definitions that it uses. */
function withHelpers(helpers: readonly string[], code: string): string {
  return `${usedHelpers([PRELUDE, ...helpers].join("\n"), code)}\n${code}`;
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
