import { ResolvedLab } from "../../lib/model";
import { Stage } from "../../lib/render";
import * as fs from "fs";
import { listNetns, nsExec, tryRun } from "./netns";

/**
 * Every kernel object and file on this machine that carries a lab's prefix, as sorted lines
 * (`netns X`, `link NETNS X`, `chain NETNS v4 TABLE X`, `rule ...`, `ipset NETNS X`, `nft NETNS X`,
 * `file PATH`): what convergence and teardown must get exactly right. Rule lines carry the rule
 * text, so two states with the same objects but other rules differ.
 */
export function liveObjects(prefix: string, labName: string, options: { rules?: boolean } = {}): string[] {
  const out: string[] = [];
  const mine = listNetns().filter((n) => n.startsWith(`${prefix}-`));
  for (const ns of mine) out.push(`netns ${ns}`);
  const linkRe = new RegExp(`^${prefix}[a-z]-`);
  // Objects inside the lab's own namespaces that are not prefixed (gw0, eth0) belong to them wholly.
  for (const ns of mine) {
    const links = nsExec(ns, "ip", ["-o", "link", "show"]).stdout.split("\n").map((l) => l.split(": ")[1]?.split("@")[0]).filter(Boolean);
    for (const l of links.filter((x) => linkRe.test(x))) out.push(`link ${ns} ${l}`);
    for (const [fam, save] of [["v4", "iptables-save"], ["v6", "ip6tables-save"]] as const) {
      let table = "";
      for (const line of nsExec(ns, save).stdout.split("\n")) {
        if (line.startsWith("*")) table = line.slice(1);
        const chain = /^:(CN-[^ ]+)/.exec(line);
        if (chain && chain[1].startsWith(`CN-${prefix}-`)) out.push(`chain ${ns} ${fam} ${table} ${chain[1]}`);
        if (options.rules && line.startsWith(`-A CN-${prefix}-`)) out.push(`rule ${ns} ${fam} ${table} ${line}`);
        if (line.startsWith("-A ") && line.includes(` -j CN-${prefix}-`)) out.push(`hook ${ns} ${fam} ${table} ${line}`);
      }
    }
    if (options.rules) {
      // Attributes and contents too: addresses, the routes the lab adds, each link's MTU, master, tunnel
      // and MAC where the lab derives it (52:54:00:…; the kernel picks the others at random).
      for (const a of nsExec(ns, "ip", ["-o", "addr", "show", "scope", "global"]).stdout.split("\n").filter(Boolean)) {
        const f = a.split(/\s+/);
        out.push(`addr ${ns} ${f[1]} ${f[3]}`);
      }
      for (const fam of ["-4", "-6"]) {
        for (const r of nsExec(ns, "ip", [fam, "route", "show", "proto", "boot"]).stdout.split("\n").filter(Boolean)) out.push(`route ${ns} ${r.trim()}`);
      }
      for (const l of nsExec(ns, "ip", ["-o", "-d", "link", "show"]).stdout.split("\n").filter(Boolean)) {
        const name = l.split(": ")[1]?.split("@")[0];
        if (!name) continue;
        const mtu = / mtu (\d+)/.exec(l)?.[1];
        const mac = /link\/ether (\S+)/.exec(l)?.[1];
        const master = / master (\S+)/.exec(l)?.[1] ?? "-";
        const vxlan = /vxlan id (\d+) local (\S+)/.exec(l);
        out.push(`linkattr ${ns} ${name} mtu ${mtu} master ${master}${mac?.startsWith("52:54:00:") ? ` mac ${mac}` : ""}${vxlan ? ` vxlan ${vxlan[1]} ${vxlan[2]}` : ""}`);
      }
      const fdb = nsExec(ns, "bridge", ["fdb", "show"]).stdout.split("\n").filter((x) => x.startsWith("00:00:00:00:00:00"));
      for (const f of fdb) out.push(`flood ${ns} ${f.trim()}`);
    }
    for (const set of nsExec(ns, "ipset", ["list", "-n"]).stdout.split("\n").filter((s) => s.startsWith(`cn-${prefix}-`) || s.startsWith(`ct-${prefix}-`))) {
      out.push(`ipset ${ns} ${set}`);
    }
    for (const t of nsExec(ns, "nft", ["list", "tables"]).stdout.split("\n").filter((t) => t.includes(`cn_${prefix}`))) out.push(`nft ${ns} ${t}`);
  }
  for (const f of filesUnder("/run/cloudnet")) if (f.includes(prefix) || f.includes(labName)) out.push(`file ${f}`);
  // Daemons the lab started (BIRD), wherever they run: named by their files under /run/cloudnet.
  for (const line of tryRun("pgrep", ["-a", "bird"]).stdout.split("\n").filter((l) => l.includes(`/run/cloudnet/bird/`) && l.includes(`/${prefix}.`))) {
    out.push(`process ${line.split(" ").slice(1).join(" ")}`);
  }
  return out.sort();
}

/** Every file and directory below `dir`. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const r = tryRun("find", [dir, "-mindepth", "1"]);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/**
 * What the rendered stages declare, in the form `liveObjects` prints: namespaces, prefixed links,
 * the host namespaces' chains, ipsets and nft tables (emulated labs only: the stages of a host run in
 * its namespace).
 */
export function declaredObjects(lab: ResolvedLab, stages: readonly Stage[]): string[] {
  const hostNs = (h: string) => lab.hosts.find((x) => x.name === h)!.netns!;
  const out = new Set<string>();
  for (const s of stages) {
    const here = s.runOn.kind === "host" ? hostNs(s.runOn.host) : undefined;
    for (const o of s.owns ?? []) {
      if (o.kind === "netns") out.add(`netns ${o.name}`);
      if (o.kind === "link") out.add(`link ${o.netns ?? here} ${o.name}`);
      // Chains in a guest's own namespace (interception) are not among those compared.
      if (o.kind === "chain" && s.runOn.kind === "host") out.add(`chain ${here} v${o.family} ${o.table} ${o.name}`);
      if (o.kind === "ipset") out.add(`ipset ${here} ${o.name}`);
      if (o.kind === "nft-table") out.add(`nft ${here} table bridge ${o.name}`);
    }
  }
  return [...out].sort();
}

/** The kinds `declaredObjects` covers, from a `liveObjects` listing (chains only in the hosts' own namespaces). */
export function comparable(live: readonly string[], lab: ResolvedLab): string[] {
  const hosts = new Set(lab.hosts.map((h) => h.netns!));
  return live.filter((l) => {
    const [kind, ns] = l.split(" ");
    if (kind === "chain") return hosts.has(ns);
    return ["netns", "link", "ipset", "nft"].includes(kind);
  });
}
