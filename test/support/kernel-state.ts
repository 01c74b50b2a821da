import { run } from "./netns";

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

/** The rules of both families in a namespace, as rulesView shows them. */
export function rulesIn(netns: string): string {
  return ["iptables-save", "ip6tables-save"].map((cmd) => rulesView(run("ip", ["netns", "exec", netns, cmd]))).join("\n");
}
