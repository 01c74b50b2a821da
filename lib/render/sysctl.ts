/**
 * Shell helpers for host settings several labs may need at once (ip_forward, br_netfilter's
 * bridge-nf-call-*): each lab holds a setting while deployed; the value found before the first
 * holder is put back when the last one lets go. Static text; values arrive as arguments.
 */
export const SYSCTL_HELPERS = [
  "# cn_sysctl_hold KEY SCOPE LAB: LAB needs KEY at 1 in SCOPE (a host or namespace). The first",
  "# holder saves the value it found; later holders copy that saved value, so it survives them all.",
  "cn_sysctl_hold() {",
  "  local d=${CLOUDNET_STATE:-/run/cloudnet/state}/$2/$1 other",
  "  mkdir -p \"$d\"",
  "  [ -e \"$d/$3\" ] && return 0",
  "  other=$(ls \"$d\" | head -n 1)",
  "  if [ -n \"$other\" ]; then cp \"$d/$other\" \"$d/$3\"; else sysctl -n \"$1\" > \"$d/$3\"; fi",
  "}",
  "# cn_sysctl_release KEY SCOPE LAB: LAB no longer needs KEY; the last holder restores the saved value.",
  "cn_sysctl_release() {",
  "  local d=${CLOUDNET_STATE:-/run/cloudnet/state}/$2/$1",
  "  [ -e \"$d/$3\" ] || return 0",
  "  if [ \"$(ls \"$d\" | wc -l)\" -eq 1 ]; then sysctl -qw \"$1=$(cat \"$d/$3\")\"; fi",
  "  rm -f \"$d/$3\"",
  "  rmdir \"$d\" 2>/dev/null || true",
  "}",
];
