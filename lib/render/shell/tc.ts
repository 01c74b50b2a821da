/**
 * Shell helpers for traffic control. A shaped device's qdiscs are rebuilt from one `tc -batch` only
 * when the batch differs from the one that built them (its hash is kept in TC_STATE_DIR), so a second
 * apply changes nothing. Static text.
 */
export const TC_HELPERS = [
  "# cn_tc_apply DEV FROM MAJOR: DEV's root qdisc (and, unless FROM is -, FROM's ingress qdisc that feeds DEV)",
  "# rebuilt from the tc batch on stdin, unless that batch built them last and DEV's root is still MAJOR:.",
  "cn_tc_apply() {",
  "  local dev=$1 from=$2 major=$3 want sum f=/run/cloudnet/tc/$1",
  "  want=$(mktemp)",
  "  cat > \"$want\"",
  "  sum=$(sha256sum < \"$want\" | cut -c1-16)",
  "  if [ -r \"$f\" ] && [ \"$(cat \"$f\")\" = \"$sum\" ] && tc qdisc show dev \"$dev\" root | grep -q \" $major: \"; then rm -f \"$want\"; return 0; fi",
  "  cn_log \"traffic control of $dev: built from one batch\"",
  "  tc qdisc del dev \"$dev\" root 2>/dev/null || true",
  "  [ \"$from\" = - ] || tc qdisc del dev \"$from\" ingress 2>/dev/null || true",
  "  tc -batch \"$want\"",
  "  mkdir -p /run/cloudnet/tc",
  "  printf '%s\\n' \"$sum\" > \"$f\"",
  "  rm -f \"$want\"",
  "}",
  "# cn_tc_prune MAJOR PREFIX KEEP: removes the lab's root qdiscs (handle MAJOR:) and the ingress qdiscs of its",
  "# devices (PREFIX, a letter, -) that the comma list KEEP does not name (DEV for a root, DEV@ingress);",
  "# the record directory goes once it is empty.",
  "cn_tc_prune() {",
  "  local major=$1 p=$2 keep=\",$3,\" kind handle dev",
  "  while read -r kind handle dev; do",
  "    case \"$dev\" in \"$p\"[a-z]-*) ;; *) continue ;; esac",
  "    if [ \"$kind\" = ingress ]; then",
  "      case \"$keep\" in *\",$dev@ingress,\"*) ;; *) cn_log \"remove the ingress qdisc of $dev\"; tc qdisc del dev \"$dev\" ingress 2>/dev/null || true ;; esac",
  "    elif [ \"$handle\" = \"$major:\" ]; then",
  "      case \"$keep\" in *\",$dev,\"*) ;; *) cn_log \"remove traffic control of $dev\"; tc qdisc del dev \"$dev\" root 2>/dev/null || true; rm -f \"/run/cloudnet/tc/$dev\" ;; esac",
  "    fi",
  "  done < <(tc qdisc show | awk '$4 == \"dev\" { print $2, $3, $5 }')",
  "  rmdir /run/cloudnet/tc 2>/dev/null || true",
  "}",
];
