import { run, tryRun } from "./netns";

/** `ip -d link` text without running timers (gc_timer, hold_timer, ...), which tick between reads. */
export function withoutTimers(text: string): string {
  return text.replace(/(\w+_timer)\s+[\d.]+/g, "$1");
}

/**
 * An iptables-save dump without comments and counters, and without tables that hold no rule and
 * only ACCEPT policies: using a table (the lab's conntrack zone lives in `raw`) makes the kernel
 * list it from then on, even once empty, and an empty table filters nothing (iptables-legacy
 * cannot even unload one). Any rule or chain left behind still shows.
 */
export function rulesView(dump: string): string {
  const tables = dump.split("\n").filter((l) => !l.startsWith("#")).join("\n").replace(/\[\d+:\d+\]/g, "").split(/(?=^\*)/m);
  return tables.filter((t) => t.split("\n").some((l) => l.startsWith("-A") || (l.startsWith(":") && !/ ACCEPT $/.test(l)))).join("");
}

/**
 * `nft list ruleset` without counters and without tables that hold no rule and only accept policies:
 * rulesView's reason, for the iptables-nft tables (`table ip raw`, ...) the kernel keeps once used.
 */
export function nftView(ruleset: string): string {
  const tables = ruleset.replace(/counter packets \d+ bytes \d+/g, "counter").split(/(?=^table )/m);
  const holdsSomething = (t: string) => t.split("\n").map((l) => l.trim()).some((l) =>
    l !== "" && l !== "}" && !/^table /.test(l) && !/^chain \S+ \{$/.test(l) && !/^type .* policy accept;$/.test(l));
  return tables.filter(holdsSomething).join("");
}

/** The rules of both families in a namespace, as rulesView shows them. */
export function rulesIn(netns: string): string {
  return ["iptables-save", "ip6tables-save"].map((cmd) => rulesView(run("ip", ["netns", "exec", netns, cmd]))).join("\n");
}

/**
 * Everything the kernel holds in each of the namespaces (both families' rules, ipsets, nftables,
 * links with their details, addresses, routes of both families, the bridges' forwarding entries,
 * neighbours, sysctls a lab may touch) and the lab's files under /run/cloudnet: what must not change when a
 * lab is applied a second time. Counters and timers are left out; they tick between reads.
 */
export function fullState(namespaces: readonly string[]): string {
  const parts: string[] = [];
  for (const ns of [...namespaces].sort()) {
    const inNs = (cmd: string, ...args: string[]) => {
      const r = tryRun("ip", ["netns", "exec", ns, cmd, ...args]);
      return r.stdout;
    };
    parts.push(
      `== ${ns}`,
      rulesIn(ns),
      inNs("ipset", "list").replace(/ initval 0x[0-9a-f]+/g, ""),
      nftView(inNs("nft", "list", "ruleset")),
      withoutTimers(inNs("ip", "-d", "link", "show")).replace(/\s+(rx|tx)_packets.*$/gm, ""),
      inNs("ip", "addr", "show").replace(/valid_lft \S+ preferred_lft \S+/g, ""),
      inNs("ip", "-4", "route", "show", "table", "all"),
      inNs("ip", "-6", "route", "show", "table", "all").replace(/ expires \S+/g, ""),
      inNs("bridge", "fdb", "show").split("\n").filter((l) => l.includes(" permanent") || l.includes("00:00:00:00:00:00")).join("\n"),
      inNs("sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding"),
    );
  }
  // The lab's own files only: other labs may come and go meanwhile.
  const prefix = namespaces[0]?.split("-")[0] ?? "";
  parts.push(tryRun("find", ["/run/cloudnet", "-type", "f", "-printf", "%p %s\\n"]).stdout.split("\n").filter((l) => l.includes(prefix)).sort().join("\n"));
  return parts.join("\n");
}
