import { createHash } from "crypto";
import { IpAddress } from "../../../lib/net";

/**
 * A frame as the bridge's prerouting hook sees it. `type` is its EtherType by nft's name (`ip`,
 * `ip6`, `arp`, `8021q`, `8021ad`) or a number (`0x88cc`); by default `arp` with `arp`, `ip6` with
 * `icmpv6`, else `ip`. An IP frame may carry one of `icmp` (its type by nft's name), `icmpv6` or
 * `udp` or `tcp`, and `src`, its IP source address (without it, `ip saddr` / `ip6 saddr` terms do not
 * match); an ICMPv6 neighbour advertisement has a target and options (`tlla`: a target link-layer
 * address option with that MAC; `options`: further raw option bytes).
 */
export interface Frame {
  readonly iif: string;
  /** The port the bridge forwards it to (what the forward hook's `oifname` sees); none: only prerouting judges it. */
  readonly oif?: string;
  readonly saddr: string;
  readonly type?: string;
  readonly src?: string;
  readonly arp?: { readonly ether: string; readonly ip: string };
  readonly icmp?: string;
  readonly icmpv6?: { readonly type: string; readonly target?: string; readonly tlla?: string; readonly options?: readonly number[] };
  readonly udp?: { readonly sport: number; readonly dport: number };
  readonly tcp?: { readonly dport: number };
}

export interface NftGuard {
  readonly table: string;
  readonly digest: string;
  readonly payload: string;
  readonly head: string[];
  /** The hooked chains and their hooks (prerouting, forward). */
  readonly hooks: ReadonlyMap<string, string>;
  /** Rules per chain, trimmed, the hook line left out. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly judge: (f: Frame) => "drop" | "accept";
  readonly drops: string[];
}

const ICMPV6_TYPES: Record<string, number> = {
  "echo-request": 128, "echo-reply": 129, "nd-router-solicit": 133, "nd-router-advert": 134,
  "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137,
};

function etherType(f: Frame): string {
  return f.type ?? (f.arp ? "arp" : f.icmpv6 ? "ip6" : "ip");
}

/** The frame's transport header and payload (what `@th` reads), or undefined for a frame without one. */
function transport(f: Frame): number[] | undefined {
  const type = etherType(f);
  if (type !== "ip" && type !== "ip6") return undefined;
  if (f.udp) return [f.udp.sport >> 8, f.udp.sport & 0xff, f.udp.dport >> 8, f.udp.dport & 0xff, 0, 8, 0, 0];
  if (f.icmp) return [0, 0, 0, 0, 0, 0, 0, 0];
  if (f.icmpv6) {
    const t = ICMPV6_TYPES[f.icmpv6.type];
    if (t === undefined) throw new Error(`unknown ICMPv6 type ${f.icmpv6.type}`);
    if (t !== 136) return [t, 0, 0, 0, 0, 0, 0, 0];
    const target = IpAddress.parse(f.icmpv6.target ?? "::").toBigInt();
    const bytes = [t, 0, 0, 0, 0x60, 0, 0, 0, ...Array.from({ length: 16 }, (_, i) => Number((target >> BigInt(8 * (15 - i))) & 0xffn))];
    if (f.icmpv6.tlla) bytes.push(2, 1, ...f.icmpv6.tlla.split(":").map((x) => parseInt(x, 16)));
    bytes.push(...(f.icmpv6.options ?? []));
    return bytes;
  }
  return undefined;
}

/** A term's field of the frame: a string or number to compare, or undefined when the frame lacks the protocol (no match, as nft's implicit dependencies). */
function field(f: Frame, name: string): string | bigint | undefined {
  const type = etherType(f);
  const th = transport(f);
  let m: RegExpExecArray | null;
  switch (name) {
    case "ether saddr": return f.saddr.toLowerCase();
    case "ether type": return type;
    case "arp saddr ether": return type === "arp" ? f.arp?.ether.toLowerCase() : undefined;
    case "arp saddr ip": return type === "arp" && f.arp ? IpAddress.parse(f.arp.ip).toString() : undefined;
    case "icmp type": return type === "ip" ? f.icmp : undefined;
    case "icmpv6 type": return type === "ip6" ? f.icmpv6?.type : undefined;
    case "udp sport": return f.udp && (type === "ip" || type === "ip6") ? BigInt(f.udp.sport) : undefined;
    case "udp dport": return f.udp && (type === "ip" || type === "ip6") ? BigInt(f.udp.dport) : undefined;
    case "ip6 length": return type === "ip6" ? BigInt(th?.length ?? 0) : undefined;
    case "ip saddr": return type === "ip" && f.src ? IpAddress.parse(f.src).toString() : undefined;
    case "ip6 saddr": return type === "ip6" && f.src ? IpAddress.parse(f.src).toString() : undefined;
    case "meta l4proto":
      if (type !== "ip" && type !== "ip6") return undefined;
      return f.tcp ? "tcp" : f.udp ? "udp" : f.icmp ? "icmp" : f.icmpv6 ? "ipv6-icmp" : undefined;
  }
  if ((m = /^@th,(\d+),(\d+)$/.exec(name))) {
    const [off, len] = [Number(m[1]), Number(m[2])];
    if (off % 8 || len % 8) throw new Error(`@th,${off},${len}: only whole bytes are understood`);
    if (!th || off / 8 + len / 8 > th.length) return undefined;
    return th.slice(off / 8, off / 8 + len / 8).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  }
  throw new Error(`unknown nft field ${name}`);
}

const FIELDS = ["ether saddr", "ether type", "arp saddr ether", "arp saddr ip", "ip saddr", "ip6 saddr", "meta l4proto", "icmp type", "icmpv6 type", "udp sport", "udp dport", "ip6 length"];

/** Whether a field's value is one of `values` (words of the rule: names, MACs, addresses, numbers). */
function equals(name: string, value: string | bigint, values: readonly string[]): boolean {
  return values.some((v) => {
    if (typeof value === "bigint") {
      if (!/^(0x[0-9a-f]+|\d+)$/.test(v)) throw new Error(`${name}: '${v}' is not a number`);
      return BigInt(v) === value;
    }
    if (name === "arp saddr ip" || name === "ip saddr" || name === "ip6 saddr") return IpAddress.parse(v).toString() === value;
    return v.toLowerCase() === value;
  });
}

/**
 * Whether a `... drop` or `... accept` rule matches the frame: `iifname "X"` and terms
 * `FIELD [!=] VALUE`, VALUE a word or a set `{ a, b }`. Anything else is refused.
 */
function matches(rule: string, f: Frame): boolean {
  const words = rule.slice(0, rule.lastIndexOf(" ")).match(/\{[^}]*\}|"[^"]*"|\S+/g) ?? [];
  let ok = true;
  for (let i = 0; i < words.length;) {
    if (words[i] === "iifname" || words[i] === "oifname") {
      const port = words[i] === "iifname" ? f.iif : f.oif;
      const names = words[i + 1].startsWith("{") ? words[i + 1].slice(1, -1).split(",").map((x) => x.trim()) : [words[i + 1]];
      ok = ok && port !== undefined && names.includes(`"${port}"`);
      i += 2;
      continue;
    }
    const name = FIELDS.find((x) => words.slice(i, i + x.split(" ").length).join(" ") === x) ?? (/^@th,\d+,\d+$/.test(words[i]) ? words[i] : undefined);
    if (!name) throw new Error(`unexpected nft rule: ${rule}`);
    i += name.split(" ").length;
    const negate = words[i] === "!=";
    if (negate) i++;
    const raw = words[i++];
    if (raw === undefined) throw new Error(`unexpected nft rule: ${rule}`);
    const values = raw.startsWith("{") ? raw.slice(1, -1).split(",").map((x) => x.trim()) : [raw];
    const value = field(f, name);
    ok = ok && value !== undefined && equals(name, value, values) !== negate;
  }
  return ok;
}

/**
 * Reads the guard back and judges a frame. The guard is three lines: `if [[ "$(nft list table bridge
 * T 2>/dev/null)" != *'comment "D"'* ]]; then`, the nft heredoc (indented by two), `fi`; the payload
 * declares, deletes and defines T, whose first line is `comment "D"`, D being the first 16 hex of the
 * SHA-256 of the rest of the table. The chain hooked at prerouting runs, then (for a frame with an
 * `oif`) those hooked at forward, with `... drop` and `... accept` rules (see `matches`) and
 * `iifname vmap { "X" : jump C }` dispatch; a jumped-to chain returns unless it drops or accepts, and
 * an accept ends its hook (the other hook still runs). Anything else in the payload is refused.
 */
export function nftGuard(cmds: readonly string[]): NftGuard {
  if (cmds.length !== 3 || cmds[2] !== "fi") throw new Error(`not an if ... fi guard: ${JSON.stringify(cmds)}`);
  const check = /^if \[\[ "\$\(nft list table bridge (\S+) 2>\/dev\/null\)" != \*'comment "([0-9a-f]{16})"'\* \]\]; then$/.exec(cmds[0]);
  if (!check) throw new Error(`unexpected guard check: ${cmds[0]}`);
  const m = /^ {2}nft -f - <<'CLOUDNET_EOF'\n([\s\S]*)\nCLOUDNET_EOF$/.exec(cmds[1]);
  if (!m) throw new Error(`not an nft heredoc: ${cmds[1]}`);
  const lines = m[1].split("\n");
  const t = /^table bridge (\S+)$/.exec(lines[0]);
  if (!t || lines[1] !== `delete table bridge ${t[1]}` || lines[2] !== `table bridge ${t[1]} {` || lines.at(-1) !== "}") throw new Error(`unexpected table framing:\n${m[1]}`);
  if (t[1] !== check[1]) throw new Error(`checks table ${check[1]} but defines ${t[1]}`);
  if (lines[3] !== `  comment "${check[2]}"`) throw new Error(`the table's comment is not the checked digest ${check[2]}: ${lines[3]}`);
  const digest = createHash("sha256").update(lines.slice(4, -1).join("\n")).digest("hex").slice(0, 16);
  if (digest !== check[2]) throw new Error(`digest ${check[2]} is not that of the table's body (${digest})`);
  const chains = new Map<string, { hook?: string; rules: string[] }>();
  let current: { hook?: string; rules: string[] } | undefined;
  for (const line of lines.slice(4, -1)) {
    const open = /^ {2}chain (\S+) \{$/.exec(line);
    if (open) {
      if (current) throw new Error("nested chain");
      current = { rules: [] };
      chains.set(open[1], current);
    } else if (line === "  }") {
      if (!current) throw new Error("stray }");
      current = undefined;
    } else if (!current) throw new Error(`line outside a chain: ${line}`);
    else if (/^ {4}type filter hook (prerouting|forward) priority -200; policy accept;$/.test(line)) {
      if (current.hook) throw new Error("a chain with two hooks");
      current.hook = line.split(" ")[7];
    } else current.rules.push(line.trim());
  }
  if (current) throw new Error("unterminated chain");
  const hooked = [...chains].filter(([, c]) => c.hook === "prerouting");
  if (hooked.length !== 1) throw new Error(`expected one hooked chain, got ${hooked.length}`);
  const forwarding = [...chains].filter(([, c]) => c.hook === "forward").map(([name]) => name);
  const run = (name: string, f: Frame, depth: number): "drop" | "accept" | "continue" => {
    if (depth > 4) throw new Error("jump loop");
    const c = chains.get(name);
    if (!c) throw new Error(`jump to missing chain ${name}`);
    for (const rule of c.rules) {
      let r: RegExpExecArray | null;
      if ((r = /^iifname vmap \{ (.+) \}$/.exec(rule))) {
        for (const entry of r[1].split(", ")) {
          const e = /^"([^"]+)" : jump (\S+)$/.exec(entry);
          if (!e) throw new Error(`unexpected vmap entry: ${entry}`);
          if (e[1] !== f.iif) continue;
          const verdict = run(e[2], f, depth + 1);
          if (verdict !== "continue") return verdict;
        }
      } else if (rule.endsWith(" drop") || rule.endsWith(" accept")) {
        if (matches(rule, f)) return rule.endsWith(" drop") ? "drop" : "accept";
      } else throw new Error(`unexpected nft rule: ${rule}`);
    }
    return "continue";
  };
  return {
    table: t[1],
    digest: check[2],
    payload: m[1],
    head: lines.slice(0, 4),
    chains: new Map([...chains].map(([k, c]) => [k, c.rules])),
    // Prerouting sees every frame from its input port; the forward hook those the bridge forwards to a port.
    judge: (f) => (run(hooked[0][0], f, 0) === "drop" || (f.oif !== undefined && forwarding.some((c) => run(c, f, 0) === "drop")) ? "drop" : "accept"),
    hooks: new Map([...chains].filter(([, c]) => c.hook).map(([name, c]) => [name, c.hook!])),
    drops: [...chains.values()].flatMap((c) => c.rules.filter((r) => r.endsWith(" drop"))),
  };
}
