/**
 * `cn_ipset_prune MARKER KEEP`: destroys every set whose name starts with MARKER and is not in KEEP
 * ("-" keeps none). `cn_ipset_same NAME MAXELEM MEMBER...`: whether the set exists with that size and
 * exactly those members.
 */
export const IPSET_HELPERS = [
  "cn_ipset_same() {",
  "  local name=$1 max=$2 saved; shift 2",
  "  saved=$(ipset save \"$name\" 2>/dev/null) || return 1",
  // Older ipset ends the create line with maxelem: pad it so the match holds either way.
  "  case \" $(head -n 1 <<< \"$saved\") \" in *\" maxelem $max \"*) ;; *) return 1 ;; esac",
  "  [ \"$(awk '$1 == \"add\" { print $3 }' <<< \"$saved\" | LC_ALL=C sort)\" = \"$(printf '%s\\n' \"$@\" | sed '/^$/d' | LC_ALL=C sort)\" ]",
  "}",
  "cn_ipset_prune() {",
  "  local marker=$1 keep=,$2, set",
  "  command -v ipset >/dev/null 2>&1 || return 0",
  "  for set in $(ipset list -n 2>/dev/null | grep -F -- \"$marker\" || true); do",
  "    case \"$set\" in \"$marker\"*) ;; *) continue ;; esac",
  "    case \"$keep\" in *,\"$set\",*) ;; *) ipset destroy \"$set\" ;; esac",
  "  done",
  "}",
];
