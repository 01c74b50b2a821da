import { qosMajor } from "../../lib/model";
import { App, TerraformStack } from "cdktf";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Lab, SecurityGroup } from "../../lib/constructs";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { IpAddress } from "../../lib/net";
import { IPSET_HELPERS, Stage, arpGuard, arpGuardRemove, ipsetApply, ipsetRemoveAll, linkLocal, nftTable, renderLab, tempSetName } from "../../lib/render";
import { securityLab } from "../kernel/fixtures/security-lab";
import { parseRestore } from "./support/iptables";
import { Frame, nftGuard } from "./support/nft-guard";
import { runBash } from "./support/bash";

/**
 * The state around the rules: ipsets (left alone when they hold exactly the members already, else
 * filled under a temporary name and swapped in; pruned to what the rules use), the nftables bridge
 * table that guards ARP and Ethernet sources (replaced only when its digest changes), and the stages
 * that hold, declare and remove them. The ipset commands are run in bash against a fake `ipset` that
 * keeps its sets in a file, lists them as `ipset save` does, and refuses what the real one refuses (an
 * existing name on create, a missing set, a full set, a swap across families), so apply-twice,
 * membership changes and pruning are behaviour.
 */

function resolved(l: Lab): ResolvedLab {
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

const lab = resolved(securityLab("sec"));
const hostOf = (l: ResolvedLab, name: string) => l.hosts.find((h) => h.name === name)!;
const nicOf = (l: ResolvedLab, g: string) => l.guests.find((x) => x.name === g)!.nics[0];

// ---- a fake ipset ------------------------------------------------------------------------------

const FAKE_IPSET = `#!${process.execPath}
const fs = require("fs");
const net = require("net");
const file = process.env.FAKE_IPSET_STATE;
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_IPSET_LOG, args.join(" ") + "\\n");
const fail = (msg, code = 1) => { process.stderr.write("ipset v7.17: " + msg + "\\n"); process.exit(code); };
function run(w, where) {
  const [cmd, name] = w;
  const need = () => { if (!(name in state)) fail(where + "The set with the given name does not exist"); return state[name]; };
  switch (cmd) {
    case "list":
      if (w[1] !== "-n") fail("fake: only list -n", 3);
      if (w.length === 2) { for (const n of Object.keys(state)) process.stdout.write(n + "\\n"); return; }
      if (!(w[2] in state)) fail("The set with the given name does not exist");
      process.stdout.write(w[2] + "\\n");
      return;
    case "create": {
      if (w.length !== 7 || w[2] !== "hash:ip" || w[3] !== "family" || !["inet", "inet6"].includes(w[4]) || w[5] !== "maxelem" || !/^\\d+$/.test(w[6])) fail("fake: unsupported create " + w.join(" "), 3);
      if (name in state) fail(where + "Set cannot be created: set with the same name already exists");
      state[name] = { family: w[4], maxelem: Number(w[6]), members: [] };
      return;
    }
    case "add": {
      const s = need();
      if (w.length !== 3) fail("fake: unsupported add", 3);
      const fam = net.isIP(w[2]);
      if ((fam === 4) !== (s.family === "inet") || fam === 0) fail(where + "Syntax error: cannot parse " + w[2] + ": resolving to IP address failed");
      if (s.members.includes(w[2])) fail(where + "Element cannot be added to the set: it's already added");
      if (s.members.length >= s.maxelem) fail(where + "Hash is full, cannot add more elements");
      s.members.push(w[2]);
      return;
    }
    case "swap": {
      const a = need();
      if (!(w[2] in state)) fail(where + "The set with the given name does not exist");
      const b = state[w[2]];
      if (a.family !== b.family) fail(where + "The sets cannot be swapped: their type does not match");
      state[name] = b; state[w[2]] = a;
      return;
    }
    case "save": {
      // The listing of ipset 7.11+ on kernel 5.11+: create line (bucketsize and initval after maxelem), then one add per member,
      // in one write as ipset's buffered stdout does for a small set.
      if (w.length !== 2) fail("fake: only save NAME", 3);
      const s = need();
      const header = "create " + name + " hash:ip family " + s.family + " hashsize 1024 maxelem " + s.maxelem + " bucketsize 12 initval 0x5a3c1e07";
      fs.writeSync(1, [header, ...s.members.map((m) => "add " + name + " " + m)].join("\\n") + "\\n");
      return;
    }
    case "destroy":
      if (w.length !== 2) fail("fake: refusing to destroy every set", 3);
      need();
      delete state[name];
      return;
    default:
      fail("fake: unsupported command " + w.join(" "), 3);
  }
}
try {
  if (args[0] === "restore") {
    const lines = fs.readFileSync(0, "utf8").split("\\n").filter((l) => l !== "");
    lines.forEach((l, i) => run(l.split(" "), "Error in line " + (i + 1) + ": "));
  } else run(args, "");
} finally {
  fs.writeFileSync(file, JSON.stringify(state));
}
`;

interface FakeSet { family: string; maxelem: number; members: string[] }

class FakeHost {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-ipset-"));
  readonly state = path.join(this.dir, "state.json");
  readonly log = path.join(this.dir, "ipset.log");

  constructor(initial: Record<string, FakeSet> = {}) {
    fs.writeFileSync(path.join(this.dir, "ipset"), FAKE_IPSET, { mode: 0o755 });
    fs.writeFileSync(this.state, JSON.stringify(initial));
    fs.writeFileSync(this.log, "");
  }

  /** Runs script lines with the ipset helpers, the fake first on the PATH; fails the test on error. */
  run(lines: readonly string[]): void {
    const r = runBash(["set -Eeuo pipefail", ...IPSET_HELPERS, ...lines, ""].join("\n"), {
      PATH: `${this.dir}:${process.env.PATH}`, FAKE_IPSET_STATE: this.state, FAKE_IPSET_LOG: this.log,
    });
    if (r.status !== 0) throw new Error(`script failed (${r.status}):\n${r.stderr}`);
  }

  sets(): Record<string, FakeSet> {
    return JSON.parse(fs.readFileSync(this.state, "utf8"));
  }

  calls(): string[] {
    return fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean);
  }

  clearLog(): void {
    fs.writeFileSync(this.log, "");
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const fakes: FakeHost[] = [];
const fake = (initial: Record<string, FakeSet> = {}) => {
  const f = new FakeHost(initial);
  fakes.push(f);
  return f;
};
afterAll(() => fakes.forEach((f) => f.remove()));

const applySets = (f: FakeHost, l: ResolvedLab, host: string) => {
  const { before, after } = ipsetApply(l, hostOf(l, host));
  f.run([...before, ...after]);
};
const liveMembers = (f: FakeHost) => Object.fromEntries(Object.entries(f.sets()).map(([k, v]) => [k, v.members]));

// ---- ipsetApply --------------------------------------------------------------------------------

describe("ipsetApply", () => {
  const h2 = ipsetApply(lab, hostOf(lab, "h2"));

  it("per set, unless it holds exactly these members already: destroy a leftover temp, create the live set if missing, restore the temp (same type and maxelem), add, swap, destroy", () => {
    expect(h2.before.slice(0, 5)).toEqual([
      "if ! cn_ipset_same cn-sec-web-4 1024 10.20.0.11 10.20.0.12; then",
      "  ipset destroy ct-sec-web-4 2>/dev/null || true",
      "  ipset list -n cn-sec-web-4 >/dev/null 2>&1 || ipset create cn-sec-web-4 hash:ip family inet maxelem 1024",
      [
        "  ipset restore <<'CLOUDNET_EOF'",
        "create ct-sec-web-4 hash:ip family inet maxelem 1024",
        "add ct-sec-web-4 10.20.0.11",
        "add ct-sec-web-4 10.20.0.12",
        "swap ct-sec-web-4 cn-sec-web-4",
        "destroy ct-sec-web-4",
        "CLOUDNET_EOF",
      ].join("\n"),
      "fi",
    ]);
    expect(tempSetName("cn-sec-web-4")).toBe("ct-sec-web-4");
  });

  it("the IPv6 twin is family inet6 with the same maxelem, even while it has no members (then the check lists none)", () => {
    expect(h2.before.slice(5)).toEqual([
      "if ! cn_ipset_same cn-sec-web-6 1024; then",
      "  ipset destroy ct-sec-web-6 2>/dev/null || true",
      "  ipset list -n cn-sec-web-6 >/dev/null 2>&1 || ipset create cn-sec-web-6 hash:ip family inet6 maxelem 1024",
      "  ipset restore <<'CLOUDNET_EOF'\ncreate ct-sec-web-6 hash:ip family inet6 maxelem 1024\nswap ct-sec-web-6 cn-sec-web-6\ndestroy ct-sec-web-6\nCLOUDNET_EOF",
      "fi",
    ]);
  });

  it("names the sets it fills with their families, and prunes to exactly those after the rules", () => {
    expect(h2.sets).toEqual([{ name: "cn-sec-web-4", family: 4 }, { name: "cn-sec-web-6", family: 6 }]);
    expect(h2.after).toEqual(["cn_ipset_prune cn-sec- cn-sec-web-4,cn-sec-web-6"]);
    const h1 = ipsetApply(lab, hostOf(lab, "h1"));
    expect(h1).toEqual({ before: [], after: ["cn_ipset_prune cn-sec- -"], sets: [] });
  });

  it("run on an empty host: the live sets hold the members, and no temporary set is left", () => {
    const f = fake();
    applySets(f, lab, "h2");
    expect(Object.keys(f.sets()).filter((s) => s.startsWith("ct-"))).toEqual([]);
    expect(liveMembers(f)["cn-sec-web-4"]).toEqual(["10.20.0.11", "10.20.0.12"]);
    expect(f.sets()["cn-sec-web-4"]).toMatchObject({ family: "inet", maxelem: 1024 });
    expect(f.sets()["cn-sec-web-6"]).toMatchObject({ family: "inet6", maxelem: 1024, members: [] });
  });

  it("a second apply changes nothing: it only reads the sets (save, list), and restores, creates and destroys none", () => {
    const f = fake();
    applySets(f, lab, "h2");
    const first = f.sets();
    f.clearLog();
    applySets(f, lab, "h2");
    expect(f.sets()).toEqual(first);
    expect(f.calls().filter((c) => !/^(save cn-sec-web-[46]|list -n)$/.test(c))).toEqual([]);
    expect(f.calls()).toContain("save cn-sec-web-4");
    expect(f.calls()).toContain("save cn-sec-web-6");
  });

  it("a live set with the same members in another order is left alone; one member off, and it is rebuilt", () => {
    const same = fake({
      "cn-sec-web-4": { family: "inet", maxelem: 1024, members: ["10.20.0.12", "10.20.0.11"] },
      "cn-sec-web-6": { family: "inet6", maxelem: 1024, members: [] },
    });
    applySets(same, lab, "h2");
    expect(same.calls().filter((c) => c === "restore")).toEqual([]);
    expect(liveMembers(same)["cn-sec-web-4"]).toEqual(["10.20.0.12", "10.20.0.11"]);
    const stale = fake({
      "cn-sec-web-4": { family: "inet", maxelem: 1024, members: ["10.20.0.11", "10.20.0.99"] },
      "cn-sec-web-6": { family: "inet6", maxelem: 1024, members: [] },
    });
    applySets(stale, lab, "h2");
    // Only the set that differs is restored.
    expect(stale.calls().filter((c) => c === "restore")).toEqual(["restore"]);
    expect(liveMembers(stale)).toEqual({ "cn-sec-web-4": ["10.20.0.11", "10.20.0.12"], "cn-sec-web-6": [] });
  });

  it("a leftover temporary set from a failed apply does not break the next one", () => {
    const f = fake({ "ct-sec-web-4": { family: "inet", maxelem: 1024, members: ["10.9.9.9"] } });
    applySets(f, lab, "h2");
    expect(liveMembers(f)["cn-sec-web-4"]).toEqual(["10.20.0.11", "10.20.0.12"]);
    expect(Object.keys(f.sets()).filter((s) => s.startsWith("ct-"))).toEqual([]);
  });

  it("membership changes without rewriting rules: a new member on another host changes h2's set, not h2's iptables payload", () => {
    const payloads = (l: ResolvedLab) => {
      const s = renderLab(l).find((x: Stage) => x.id === "firewall/h2")!.apply;
      return [...s.matchAll(/^cn_in - ip6?tables-restore -w --noflush <<'CLOUDNET_EOF'\n([\s\S]*?)\nCLOUDNET_EOF$/gm)].map((m) => m[1]);
    };
    // web3 joins on h1, a host the segment spans already: h2's rules stay as they are.
    const grown = securityLab("sec");
    grown.addGuest("web3", { host: "h1", nics: [{ segment: "shop-app", address: "10.20.0.13" }], securityGroups: [grown.node.findChild("SecurityGroups").node.findChild("web") as SecurityGroup] });
    const bigger = resolved(grown);
    expect(payloads(bigger)).toEqual(payloads(lab));
    expect(payloads(lab)).toHaveLength(2);
    const f = fake();
    applySets(f, lab, "h2");
    const before = liveMembers(f);
    applySets(f, bigger, "h2");
    expect(liveMembers(f)["cn-sec-web-4"]).toEqual(["10.20.0.11", "10.20.0.12", "10.20.0.13"]);
    expect(Object.keys(f.sets())).toEqual(Object.keys(before));
  });

  it("a member on a new host changes h2's rules only by that host's tunnel: its VXLAN is accepted like h1's", () => {
    const payloads = (l: ResolvedLab) => {
      const s = renderLab(l).find((x: Stage) => x.id === "firewall/h2")!.apply;
      return [...s.matchAll(/^cn_in - ip6?tables-restore -w --noflush <<'CLOUDNET_EOF'\n([\s\S]*?)\nCLOUDNET_EOF$/gm)].map((m) => m[1].split("\n"));
    };
    const grown = securityLab("sec");
    const h3 = grown.addHost("h3");
    grown.addGuest("web3", { host: h3, nics: [{ segment: "shop-app", address: "10.20.0.13" }], securityGroups: [grown.node.findChild("SecurityGroups").node.findChild("web") as SecurityGroup] });
    const bigger = resolved(grown);
    const [was4, was6] = payloads(lab);
    const [now4, now6] = payloads(bigger);
    expect(now6).toEqual(was6);
    const vni = lab.segments[0].vni!.toString(16);
    const fromH1 = `-A CN-sec-IN -i ${hostOf(lab, "h2").uplink} -s 198.18.0.1/32 -p udp -m udp --dport 4789 -m u32 --u32 "0x0>>0x16&0x3c@0xc>>0x8=0x${vni}" -j ACCEPT`;
    expect(was4).toContain(fromH1);
    expect(now4.filter((l) => !was4.includes(l))).toEqual([fromH1.replace("198.18.0.1/32", `${hostOf(bigger, "h3").underlay}/32`)]);
    expect(was4.filter((l) => !now4.includes(l))).toEqual([]);
  });

  it("maxelem follows the group's size, and a set larger than the live one's maxelem still swaps in", () => {
    const f = fake({ "cn-sec-web-4": { family: "inet", maxelem: 2, members: ["10.20.0.11", "10.20.0.12"] } });
    applySets(f, lab, "h2");
    expect(f.sets()["cn-sec-web-4"].maxelem).toBe(1024);
  });
});

describe("cn_ipset_same (IPSET_HELPERS), against a stand-in ipset that prints a save listing", () => {
  /** A stand-in `ipset` on the PATH: `ipset save s` prints `listing`; any other set does not exist. */
  const standIn = (listing: string[] | undefined) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-ipset-same-"));
    fs.writeFileSync(path.join(dir, "listing"), listing ? listing.join("\n") + "\n" : "");
    fs.writeFileSync(path.join(dir, "ipset"), [
      "#!/bin/sh",
      `if [ "$1" = save ] && [ "$2" = s ] && [ $# -eq 2 ] && [ ${listing ? 1 : 0} = 1 ]; then cat '${dir}/listing'; exit 0; fi`,
      "echo 'ipset v7.19: The set with the given name does not exist' >&2",
      "exit 1",
    ].join("\n") + "\n", { mode: 0o755 });
    return dir;
  };
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const header = (family: string, maxelem: number) => `create s hash:ip family ${family} hashsize 1024 maxelem ${maxelem} bucketsize 12 initval 0x3f2a9c11`;
  const v4 = (maxelem: number, ...members: string[]) => [header("inet", maxelem), ...members.map((m) => `add s ${m}`)];

  /** Whether `cn_ipset_same NAME MAXELEM MEMBERS...` holds, run as a stage runs it (set -Eeuo pipefail). */
  function same(listing: string[] | undefined, args: string): boolean {
    const dir = standIn(listing);
    dirs.push(dir);
    const r = runBash(["set -Eeuo pipefail", ...IPSET_HELPERS, `if cn_ipset_same ${args}; then echo same; else echo differs; fi`].join("\n"), {
      PATH: `${dir}:${process.env.PATH}`,
    });
    expect(r).toMatchObject({ status: 0, stderr: "" });
    return { "same\n": true, "differs\n": false }[r.stdout]!;
  }

  it("is true for the same maxelem and exactly the same members, in any order", () => {
    expect(same(v4(1024, "10.0.0.1", "10.0.0.2", "10.0.0.3"), "s 1024 10.0.0.1 10.0.0.2 10.0.0.3")).toBe(true);
    expect(same(v4(1024, "10.0.0.3", "10.0.0.1", "10.0.0.2"), "s 1024 10.0.0.2 10.0.0.3 10.0.0.1")).toBe(true);
  });

  it("an empty set is the same as no members, and only that", () => {
    expect(same(v4(1024), "s 1024")).toBe(true);
    expect(same(v4(1024), "s 1024 10.0.0.1")).toBe(false);
    expect(same(v4(1024, "10.0.0.1"), "s 1024")).toBe(false);
  });

  it("is false for another maxelem, also one that merely starts or ends the same", () => {
    expect(same(v4(1024, "10.0.0.1"), "s 2048 10.0.0.1")).toBe(false);
    expect(same(v4(10240, "10.0.0.1"), "s 1024 10.0.0.1")).toBe(false);
    expect(same(v4(1024, "10.0.0.1"), "s 102 10.0.0.1")).toBe(false);
    expect(same(v4(1024, "10.0.0.1"), "s 024 10.0.0.1")).toBe(false);
  });

  it("is false for a member missing, one too many, or another one (also one that is a prefix of it)", () => {
    expect(same(v4(1024, "10.0.0.1", "10.0.0.2"), "s 1024 10.0.0.1")).toBe(false);
    expect(same(v4(1024, "10.0.0.1"), "s 1024 10.0.0.1 10.0.0.2")).toBe(false);
    expect(same(v4(1024, "10.0.0.1", "10.0.0.2"), "s 1024 10.0.0.1 10.0.0.3")).toBe(false);
    expect(same(v4(1024, "10.0.0.11"), "s 1024 10.0.0.1")).toBe(false);
  });

  it("reads IPv6 listings the same way", () => {
    const v6 = [header("inet6", 1024), "add s fd00:20::12", "add s fd00:20::11"];
    expect(same(v6, "s 1024 fd00:20::11 fd00:20::12")).toBe(true);
    expect(same(v6, "s 1024 fd00:20::11")).toBe(false);
  });

  it("holds for 10,000 members (a listing far larger than a pipe's buffer) and an older ipset's create line ending in maxelem", () => {
    const members = Array.from({ length: 10_000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
    expect(same([header("inet", 32768), ...members.map((m) => `add s ${m}`)], `s 32768 ${[...members].reverse().join(" ")}`)).toBe(true);
    expect(same(["create s hash:ip family inet hashsize 1024 maxelem 8192", "add s 10.0.0.1"], "s 8192 10.0.0.1")).toBe(true);
  });

  it("is false for a set that does not exist (and says nothing about it)", () => {
    expect(same(undefined, "s 1024")).toBe(false);
    expect(same(v4(1024), "other 1024")).toBe(false);
  });
});

describe("pruning sets", () => {
  const foreign: Record<string, FakeSet> = {
    "docker-ips": { family: "inet", maxelem: 65536, members: ["172.17.0.2"] },
    "cn-sec1-web-4": { family: "inet", maxelem: 1024, members: [] }, // another lab whose prefix starts with "sec"
    "xcn-sec-web-4": { family: "inet", maxelem: 1024, members: [] }, // contains the marker, does not start with it
    "cn-other-db-4": { family: "inet", maxelem: 1024, members: [] },
  };

  it("after the rules, a host keeps exactly the lab's sets it uses, and every foreign set", () => {
    const f = fake({ ...foreign, "cn-sec-old-4": { family: "inet", maxelem: 1024, members: ["10.20.0.99"] } });
    applySets(f, lab, "h2");
    // h2's rules name only web's sets (db1 takes 3306 from web); db's sets would serve web's egress, which is open.
    expect(Object.keys(f.sets()).sort()).toEqual([...Object.keys(foreign), "cn-sec-web-4", "cn-sec-web-6"].sort());
    expect(f.sets()["docker-ips"]).toEqual(foreign["docker-ips"]);
  });

  it("the sets a host fills are exactly the sets its rules name", () => {
    // Regression (fixed): lib/render/security.ts:119-130 (setsUsed) — every group rule with a group peer counts, also
    // the egress rules of groups whose egress is open, which are never rendered (E- just RETURNs). So
    // h1, whose only rules name no set at all, still creates, fills and keeps cn-sec-db-4/-6 (from web's
    // implied egress rule to db), and h2 keeps cn-sec-db-4/-6 too. Repro: securityLab('sec'), ipsetApply
    // for h1 fills cn-sec-db-4. Fix: collect the sets from the rules that are rendered — skip egress
    // rules when any group of the NIC has open egress (the same test egressChain makes), e.g. by
    // returning the set names from securityRules, or by filtering in setsUsed with
    // `r.direction === "ingress" || n.groups.every((g) => g.restrictEgress)`.
    for (const h of ["h1", "h2"]) {
      const stage = renderLab(lab).find((s) => s.id === `firewall/${h}`)!.apply;
      const named = new Set<string>();
      for (const m of stage.matchAll(/^cn_in - ip6?tables-restore -w --noflush <<'CLOUDNET_EOF'\n([\s\S]*?)\nCLOUDNET_EOF$/gm)) {
        for (const chains of parseRestore(m[1] + "\n").values()) {
          for (const rules of chains.values()) for (const r of rules) if (r.includes("--match-set")) named.add(r[r.indexOf("--match-set") + 1]);
        }
      }
      const f = fake();
      applySets(f, lab, h);
      expect({ host: h, sets: Object.keys(f.sets()).sort() }).toEqual({ host: h, sets: [...named].sort() });
    }
  });

  it("teardown removes every set of the lab, live and temporary, and nothing else", () => {
    const f = fake({ ...foreign, "ct-sec-web-4": { family: "inet", maxelem: 1024, members: [] } });
    applySets(f, lab, "h2");
    f.run(ipsetRemoveAll("sec"));
    expect(Object.keys(f.sets()).sort()).toEqual(Object.keys(foreign).sort());
    // Twice is fine.
    f.run(ipsetRemoveAll("sec"));
    expect(Object.keys(f.sets()).sort()).toEqual(Object.keys(foreign).sort());
    expect(ipsetRemoveAll("sec")).toEqual(["cn_ipset_prune cn-sec- -", "cn_ipset_prune ct-sec- -"]);
  });

  it("without ipset installed, pruning is a no-op (a host that never had sets)", () => {
    // A PATH with bash only: `command -v ipset` finds nothing.
    const f = fake();
    const bin = path.join(f.dir, "bin");
    fs.mkdirSync(bin);
    const bash = runBash("command -v bash").stdout.trim();
    fs.symlinkSync(bash, path.join(bin, "bash"));
    const r = runBash(["set -Eeuo pipefail", ...IPSET_HELPERS, ...ipsetRemoveAll("sec"), "echo done"].join("\n"), { PATH: bin });
    expect(r).toMatchObject({ status: 0, stdout: "done\n" });
  });
});

// ---- the ARP / Ethernet guard ------------------------------------------------------------------

describe("the nft reader itself", () => {
  const wrap = (body: string[], digest = createHash("sha256").update(body.join("\n")).digest("hex").slice(0, 16)) => [
    `if [[ "$(nft list table bridge cn_t 2>/dev/null)" != *'comment "${digest}"'* ]]; then`,
    ["  nft -f - <<'CLOUDNET_EOF'", "table bridge cn_t", "delete table bridge cn_t", "table bridge cn_t {", `  comment "${digest}"`, ...body, "}", "CLOUDNET_EOF"].join("\n"),
    "fi",
  ];
  const hook = "    type filter hook prerouting priority -200; policy accept;";
  const flat = nftGuard(wrap(["  chain guard {", hook, '    iifname "p1" ether saddr != 52:54:00:00:00:01 drop', '    iifname "p1" arp saddr ip != 10.0.0.1 drop', "  }"]));
  const vmap = nftGuard(wrap(["  chain port_p1 {", "    ether saddr != 52:54:00:00:00:01 drop", "    arp saddr ip != 10.0.0.1 drop", "  }", "  chain guard {", hook, '    iifname vmap { "p1" : jump port_p1 }', "  }"]));

  it("judges per-port rules and vmap dispatch alike", () => {
    for (const g of [flat, vmap]) {
      expect(g.judge({ iif: "p1", saddr: "52:54:00:00:00:01" })).toBe("accept");
      expect(g.judge({ iif: "p1", saddr: "52:54:00:00:00:02" })).toBe("drop");
      expect(g.judge({ iif: "p1", saddr: "52:54:00:00:00:01", arp: { ether: "52:54:00:00:00:01", ip: "10.0.0.2" } })).toBe("drop");
      expect(g.judge({ iif: "p2", saddr: "52:54:00:00:00:02" })).toBe("accept");
    }
  });

  it("refuses rules it does not know", () => {
    const odd = nftGuard(wrap(["  chain guard {", hook, "    meta pkttype broadcast drop", "  }"]));
    expect(() => odd.judge({ iif: "p1", saddr: "52:54:00:00:00:01" })).toThrow("unexpected nft rule: meta pkttype broadcast drop");
    expect(() => nftGuard(wrap(["  chain guard {", "    iifname \"p1\" ether saddr != 52:54:00:00:00:01 drop", "  }"]))).toThrow("expected one hooked chain, got 0");
  });

  it("refuses a digest that is not that of the table's body, and a guard without its if ... fi", () => {
    const body = ["  chain guard {", hook, "  }"];
    expect(() => nftGuard(wrap(body, "0123456789abcdef"))).toThrow("digest 0123456789abcdef is not that of the table's body");
    expect(() => nftGuard(wrap(body).slice(1))).toThrow("not an if ... fi guard");
  });
});

describe("arpGuard", () => {
  const h2lines = arpGuard(lab, hostOf(lab, "h2"));
  const guard = nftGuard(h2lines);
  const web2 = nicOf(lab, "web2");
  const db1 = nicOf(lab, "db1");
  const overlay = lab.segments[0].overlayDev!;

  it("is one nft payload that replaces the lab's bridge table atomically (declare, delete, define), run only when the live table lacks its digest", () => {
    expect(h2lines).toHaveLength(3);
    expect(guard.table).toBe(nftTable("sec"));
    expect(nftTable("sec")).toBe("cn_sec");
    expect(h2lines[0]).toBe(`if [[ "$(nft list table bridge cn_sec 2>/dev/null)" != *'comment "${guard.digest}"'* ]]; then`);
    expect(guard.head).toEqual(["table bridge cn_sec", "delete table bridge cn_sec", "table bridge cn_sec {", `  comment "${guard.digest}"`]);
  });

  it("the digest follows the table's contents: another host's table, or another MAC, gets another one", () => {
    const h1 = nftGuard(arpGuard(lab, hostOf(lab, "h1")));
    expect(h1.digest).not.toBe(guard.digest);
    expect(nftGuard(arpGuard(resolved(securityLab("sec")), hostOf(lab, "h2"))).digest).toBe(guard.digest);
    const moved = securityLab("sec");
    moved.addGuest("db2", { host: "h2", nics: [{ segment: "shop-app", address: "10.20.0.22" }], securityGroups: [moved.node.findChild("SecurityGroups").node.findChild("db") as SecurityGroup] });
    const l = resolved(moved);
    expect(nftGuard(arpGuard(l, hostOf(l, "h2"))).digest).not.toBe(guard.digest);
  });

  it("run with a stand-in nft: applied when the table is missing or stale, skipped when the live table carries the digest", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-nft-"));
    try {
      const live = path.join(dir, "live");
      const log = path.join(dir, "nft.log");
      // `nft list table bridge cn_sec` prints the live table (fails without one); `nft -f -` loads stdin as the live table.
      fs.writeFileSync(path.join(dir, "nft"), [
        "#!/bin/sh",
        `echo "$*" >> '${log}'`,
        `if [ "$*" = "list table bridge cn_sec" ]; then [ -f '${live}' ] || { echo 'Error: No such file or directory' >&2; exit 1; }; cat '${live}'; exit 0; fi`,
        `if [ "$*" = "-f -" ]; then cat > '${live}'; exit 0; fi`,
        "exit 2",
      ].join("\n") + "\n", { mode: 0o755 });
      const run = () => {
        fs.writeFileSync(log, "");
        const r = runBash(["set -Eeuo pipefail", ...h2lines, ""].join("\n"), { PATH: `${dir}:${process.env.PATH}` });
        expect(r).toMatchObject({ status: 0, stderr: "" });
        return fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
      };
      // No table yet: checked, then loaded with exactly the payload.
      expect(run()).toEqual(["list table bridge cn_sec", "-f -"]);
      expect(fs.readFileSync(live, "utf8")).toBe(guard.payload + "\n");
      // The live table lists its comment: nothing is loaded again.
      fs.writeFileSync(live, ["table bridge cn_sec {", `\tcomment "${guard.digest}"`, "\tchain guard {", "\t}", "}"].join("\n") + "\n");
      expect(run()).toEqual(["list table bridge cn_sec"]);
      // A table with another digest (an older version, or changed by hand) is replaced.
      fs.writeFileSync(live, ["table bridge cn_sec {", '\tcomment "0000000000000000"', "}"].join("\n") + "\n");
      expect(run()).toEqual(["list table bridge cn_sec", "-f -"]);
      expect(fs.readFileSync(live, "utf8")).toBe(guard.payload + "\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("each guarded NIC of the host has its own port chain, and every drop there is about that port (none names another port)", () => {
    const portChain = (n: typeof web2) => `port_${n.hostDev.replace(/-/g, "_")}`;
    expect([...guard.chains.keys()].sort()).toEqual([portChain(web2), portChain(db1), "guard", "to_guarded"].sort());
    expect(guard.hooks).toEqual(new Map([["guard", "prerouting"], ["to_guarded", "forward"]]));
    expect(guard.chains.get("guard")).toEqual([`iifname vmap { "${web2.hostDev}" : jump ${portChain(web2)}, "${db1.hostDev}" : jump ${portChain(db1)} }`]);
    for (const [n, other] of [[web2, db1], [db1, web2]]) {
      const rules = guard.chains.get(portChain(n))!;
      // Drops only, but for TCP's early accepts: first IPv4 from its own MAC and address (compares only,
      // `ether type ip` excludes tagged frames), then any TCP after the tag, ethertype and source checks.
      const lane = `ether type ip ether saddr ${n.mac} ip saddr ${n.address} meta l4proto tcp accept`;
      expect(rules.filter((r) => !r.endsWith(" drop"))).toEqual([lane, "meta l4proto tcp accept"]);
      expect(rules[0]).toBe(lane);
      expect(rules.indexOf("meta l4proto tcp accept")).toBeGreaterThan(Math.max(...rules.map((r, i) => (/^(ether|ip6?) (saddr|type)/.test(r) && !r.endsWith(" accept") ? i : -1))));
      // Its own identity: source MAC, IP source, ARP sender MAC and address, and the link-layer address of its NAs.
      expect(rules).toEqual(expect.arrayContaining([
        `ether saddr != ${n.mac} drop`, `ip saddr != { ${n.address}, 0.0.0.0 } drop`,
        `arp saddr ether != ${n.mac} drop`, `arp saddr ip != ${n.address} drop`,
        `icmpv6 type nd-neighbor-advert ip6 length 32 @th,208,48 != 0x${n.mac.toString().replace(/:/g, "")} drop`,
      ]));
      expect(rules.filter((r) => r.includes(other.mac.toString()) || r.includes(` ${other.address} `))).toEqual([]);
    }
    expect(guard.drops).toHaveLength(2 * (guard.chains.get(portChain(web2))!.length - 2) + 1);
    // Towards guarded ports: the three allowed ethertypes accepted by compares, then the ports' drop.
    expect(guard.chains.get("to_guarded")).toEqual(["ether type ip accept", "ether type ip6 accept", "ether type arp accept", expect.stringMatching(/^oifname \{ "[^"]+", "[^"]+" \} drop$/)]);
  });

  it("towards a guarded port, whoever sends (the overlay, an unguarded port), only untagged IPv4, IPv6 and ARP pass", () => {
    for (const n of [web2, db1]) {
      const to = (f: Partial<Frame>) => guard.judge({ iif: overlay, oif: n.hostDev, saddr: "52:54:00:12:34:56", ...f });
      for (const type of ["ip", "ip6", "arp"]) expect(to({ type })).toBe("accept");
      for (const type of ["8021q", "8021ad", "0x88cc"]) expect(to({ type })).toBe("drop");
    }
    // Towards an unguarded port (the overlay, the router) nothing changes.
    expect(guard.judge({ iif: web2.hostDev, oif: overlay, saddr: web2.mac.toString(), type: "ip" })).toBe("accept");
    expect(guard.judge({ iif: "secr-shop-app", oif: overlay, saddr: "52:54:00:12:34:56", type: "0x88cc" })).toBe("accept");
  });

  it("a guarded port may send only from its own MAC, and ARP only for its own MAC and address", () => {
    for (const n of [web2, db1]) {
      const mac = n.mac.toString();
      const ip = n.address.toString();
      expect(guard.judge({ iif: n.hostDev, saddr: mac })).toBe("accept");
      expect(guard.judge({ iif: n.hostDev, saddr: mac, arp: { ether: mac, ip } })).toBe("accept");
      expect(guard.judge({ iif: n.hostDev, saddr: "52:54:00:12:34:56" })).toBe("drop");
      expect(guard.judge({ iif: n.hostDev, saddr: mac, arp: { ether: "52:54:00:12:34:56", ip } })).toBe("drop");
      expect(guard.judge({ iif: n.hostDev, saddr: mac, arp: { ether: mac, ip: "10.20.0.1" } })).toBe("drop");
    }
    // One guarded NIC may not use the other's identity either.
    expect(guard.judge({ iif: web2.hostDev, saddr: db1.mac.toString() })).toBe("drop");
    expect(guard.judge({ iif: web2.hostDev, saddr: web2.mac.toString(), arp: { ether: web2.mac.toString(), ip: db1.address.toString() } })).toBe("drop");
  });

  it("a guarded port sends IP only from its own addresses (unspecified ones for DHCP and DAD): checked before conntrack, since iptables accepts packets of established connections at once", () => {
    for (const n of [web2, db1]) {
      const mac = n.mac.toString();
      const from = (src: string, f: Partial<Frame> = {}) => guard.judge({ iif: n.hostDev, saddr: mac, src, ...f });
      const other = n === web2 ? db1 : web2;
      for (const tcp of [undefined, { dport: 3306 }]) {
        expect(from(n.address.toString(), { tcp })).toBe("accept");
        expect(from(other.address.toString(), { tcp })).toBe("drop");
        // Outside the subnet too, where the ARP guard would not help.
        expect(from("192.0.2.7", { tcp })).toBe("drop");
        expect(from(linkLocal(mac), { type: "ip6", tcp })).toBe("accept");
        expect(from(linkLocal(other.mac.toString()), { type: "ip6", tcp })).toBe("drop");
        expect(from("2001:db8::7", { type: "ip6", tcp })).toBe("drop");
      }
      expect(from("0.0.0.0", { udp: { sport: 68, dport: 67 } })).toBe("accept");
      expect(from("::", { icmpv6: { type: "nd-neighbor-solicit" } })).toBe("accept");
      // TCP's early accept comes after the tag and source checks: a tagged TCP frame, or one from another MAC, is dropped still.
      expect(from(n.address.toString(), { tcp: { dport: 80 }, type: "8021q" })).toBe("drop");
      expect(guard.judge({ iif: n.hostDev, saddr: other.mac.toString(), src: n.address.toString(), tcp: { dport: 80 } })).toBe("drop");
    }
  });

  it("a guarded port sends untagged IPv4, IPv6 and ARP only: 802.1Q / 802.1ad tags (a priority tag too) and other ethertypes are dropped", () => {
    const mac = web2.mac.toString();
    for (const type of ["ip", "ip6", "arp"]) expect(guard.judge({ iif: web2.hostDev, saddr: mac, type, arp: type === "arp" ? { ether: mac, ip: web2.address.toString() } : undefined })).toBe("accept");
    for (const type of ["8021q", "8021ad", "0x88cc", "0x8863"]) expect(guard.judge({ iif: web2.hostDev, saddr: mac, type })).toBe("drop");
  });

  it("a guarded port sends none of routers' and servers' messages: RAs, redirects, DHCP offers (v4 and v6)", () => {
    const mac = web2.mac.toString();
    const from = (f: Partial<Frame>) => guard.judge({ iif: web2.hostDev, saddr: mac, ...f });
    expect(from({ icmpv6: { type: "nd-router-advert" } })).toBe("drop");
    expect(from({ icmpv6: { type: "nd-redirect" } })).toBe("drop");
    expect(from({ icmp: "redirect" })).toBe("drop");
    expect(from({ icmp: "router-advertisement" })).toBe("drop");
    expect(from({ udp: { sport: 67, dport: 68 } })).toBe("drop");
    expect(from({ type: "ip6", udp: { sport: 547, dport: 546 } })).toBe("drop");
    // What a client sends passes: router solicitations, echo requests, DHCP discovers and DHCPv6 solicits.
    expect(from({ icmpv6: { type: "nd-router-solicit" } })).toBe("accept");
    expect(from({ icmp: "echo-request" })).toBe("accept");
    expect(from({ udp: { sport: 68, dport: 67 } })).toBe("accept");
    expect(from({ type: "ip6", udp: { sport: 546, dport: 547 } })).toBe("accept");
  });

  it("a guarded port's neighbour advertisements speak only for its own link-local address and MAC", () => {
    const mac = web2.mac.toString();
    const ll = linkLocal(mac);
    const na = (icmpv6: Frame["icmpv6"]) => guard.judge({ iif: web2.hostDev, saddr: mac, icmpv6 });
    expect(na({ type: "nd-neighbor-advert", target: ll })).toBe("accept");
    expect(na({ type: "nd-neighbor-advert", target: ll, tlla: mac })).toBe("accept");
    // Another guest's address or the router's as the target; another MAC as its link-layer address; an option more.
    expect(na({ type: "nd-neighbor-advert", target: linkLocal(db1.mac.toString()) })).toBe("drop");
    expect(na({ type: "nd-neighbor-advert", target: "fe80::1" })).toBe("drop");
    expect(na({ type: "nd-neighbor-advert", target: ll, tlla: db1.mac.toString() })).toBe("drop");
    expect(na({ type: "nd-neighbor-advert", target: ll, tlla: mac, options: [14, 1, 0, 0, 0, 0, 0, 0] })).toBe("drop");
    expect(na({ type: "nd-neighbor-advert", target: ll, options: [1, 1, ...mac.split(":").map((x) => parseInt(x, 16))] })).toBe("drop");
  });

  it("frames from ports no group guards pass, whatever their source (the overlay, the router)", () => {
    expect(guard.judge({ iif: overlay, saddr: "52:54:00:12:34:56", arp: { ether: "52:54:00:12:34:56", ip: "10.20.0.99" } })).toBe("accept");
  });

  it("guards only the host's own guarded NICs", () => {
    const h1 = nftGuard(arpGuard(lab, hostOf(lab, "h1")));
    const web1 = nicOf(lab, "web1");
    expect([...h1.chains.keys()]).toEqual([`port_${web1.hostDev.replace(/-/g, "_")}`, "guard", "to_guarded"]);
    expect(h1.chains.get("to_guarded")!.at(-1)).toBe(`oifname { "${web1.hostDev}" } drop`);
    expect(h1.chains.get(`port_${web1.hostDev.replace(/-/g, "_")}`)).toEqual(guard.chains.get(`port_${web2.hostDev.replace(/-/g, "_")}`)!.map((r) =>
      r.replaceAll(web2.mac.toString(), web1.mac.toString()).replace(web2.address.toString(), web1.address.toString())
        .replace(linkLocal(web2.mac.toString()), linkLocal(web1.mac.toString()))
        .replace(/@th,64,128 != \{ 0x[0-9a-f]+ \}/, `@th,64,128 != { 0x${IpAddress.parse(linkLocal(web1.mac.toString())).toBigInt().toString(16)} }`)
        .replace(web2.mac.toString().replace(/:/g, ""), web1.mac.toString().replace(/:/g, ""))));
    expect(h1.judge({ iif: web1.hostDev, saddr: "52:54:00:12:34:56" })).toBe("drop");
    expect(h1.judge({ iif: db1.hostDev, saddr: "52:54:00:12:34:56" })).toBe("accept");
  });

  it("a host without guarded NICs removes the table instead (and that is idempotent)", () => {
    const bare = new Lab(new TerraformStack(new App(), "s"), "bare");
    bare.addHost("h1");
    bare.addSecurityGroup("web");
    const l = resolved(bare);
    expect(arpGuard(l, l.hosts[0])).toEqual(arpGuardRemove("bare"));
    expect(arpGuardRemove("bare")).toEqual(["nft delete table bridge cn_bare 2>/dev/null || true"]);
  });
});

// ---- the lab state around the rules: network stage, rules stage, owner and converge ----------------

describe("the state of a host with guarded NICs: held by the network stage, declared by the rules stage, removed by the owner", () => {
  const stages = renderLab(lab);
  const stage = (id: string) => stages.find((s) => s.id === id)!;
  /** A script's commands after its helpers (and an apply's trap): what follows its log line. */
  const body = (script: string) => {
    const lines = script.split("\n");
    const trap = lines.findIndex((l) => l.startsWith("trap "));
    const log = lines.findIndex((l, i) => i > trap && l.startsWith("cn_log '"));
    return lines.slice(log + 1).filter(Boolean);
  };

  it("the owner's teardown removes the chains (both families, every table), then the sets (cn- and ct-), then the nft table, then lets go of the holds", () => {
    expect(body(stage("owner/h2").teardown)).toEqual([
      "cn_links_prune - sec -",
      ...["iptables iptables-save", "ip6tables ip6tables-save"].flatMap((t) => ["raw", "mangle", "nat", "filter"].map((table) => `cn_fw_prune - ${t} ${table} CN-sec- -`)),
      "cn_ipset_prune cn-sec- -",
      "cn_ipset_prune ct-sec- -",
      "nft delete table bridge cn_sec 2>/dev/null || true",
      "cn_records_prune sec-h2 sec routes -",
      "cn_records_prune sec-h2 sec addresses -",
      "cn_holds_prune sec-h2 sec -",
      "cn_bird_down /run/cloudnet/bird/sec-h2 sec",
      "cn_ovs_prune /run/cloudnet/ovs/sec-h2 sec -",
      `cn_tc_prune ${qosMajor("sec").toString(16)} sec sec-h2 -`,
      "cn_state_tidy sec-h2",
    ]);
    // The rules stage's own teardown removes nothing: a replaced rules stage never opens a gap.
    expect(body(stage("firewall/h2").teardown)).toHaveLength(1);
    expect(body(stage("firewall/h2").teardown)[0]).toMatch(/^: # /);
  });

  it("converge keeps exactly the holds the network stage takes: br_netfilter on both hosts, the uplink's forwarding on the gateway host", () => {
    expect(body(stage("converge/h1").apply)).toContain("cn_holds_prune sec-h1 sec br_netfilter,net%ipv4%conf%eth0%forwarding");
    expect(body(stage("converge/h2").apply)).toContain("cn_holds_prune sec-h2 sec br_netfilter");
    expect(stage("network/h1").owns).toEqual(expect.arrayContaining([{ kind: "br-netfilter" }, { kind: "sysctl", key: "net/ipv4/conf/eth0/forwarding" }]));
    expect(stage("network/h2").owns).toContainEqual({ kind: "br-netfilter" });
    expect(stage("network/h2").owns!.filter((o) => o.kind === "sysctl")).toEqual([]);
    // The lab's sets, chains and bridge table are declared, so converge keeps them; h1 names no set.
    const h2 = body(stage("converge/h2").apply);
    expect(h2).toContain("cn_ipset_prune cn-sec- cn-sec-web-4,cn-sec-web-6");
    expect(h2).toContain("cn_fw_prune - iptables iptables-save filter CN-sec- CN-sec-E-db1-0,CN-sec-E-web2-0,CN-sec-FWD,CN-sec-I-db1-0,CN-sec-I-web2-0,CN-sec-IN,CN-sec-O-db1-0,CN-sec-O-web2-0,CN-sec-SG");
    expect(h2).toContain("cn_fw_prune - iptables iptables-save raw CN-sec- CN-sec-ZONE");
    expect(h2.filter((l) => l.startsWith("nft "))).toEqual([]);
    expect(body(stage("converge/h1").apply)).toContain("cn_ipset_prune cn-sec- -");
  });

  it("the network stage holds br_netfilter before it makes a bridge, and filters per bridge, never host-wide", () => {
    for (const h of ["h1", "h2"]) {
      const apply = body(stage(`network/${h}`).apply);
      expect(apply[0]).toBe(`cn_brnf_hold sec-${h} sec`);
      const bridge = apply.indexOf("if cn_link_missing secb-shop-app; then ip link add secb-shop-app mtu 1450 type bridge; fi");
      expect(apply[bridge + 1]).toBe("ip link set dev secb-shop-app mtu 1450");
      expect(apply[bridge + 2]).toBe("ip link set secb-shop-app type bridge nf_call_iptables 1 nf_call_ip6tables 1");
      // No stage touches the host-wide switches; the only script text that does (cn_brnf_hold, loading the
      // module where the host had none) turns them off.
      // The library stage carries that text as the file it writes.
      const scripted = stages.filter((s) => s.id !== "helpers");
      expect(scripted.flatMap((s) => [...body(s.apply), ...body(s.teardown)]).filter((l) => l.includes("bridge-nf-call"))).toEqual([]);
      expect(stages.flatMap((s) => [s.apply, s.teardown]).join("\n")).not.toMatch(/bridge-nf-call-\S+=1/);
      expect(apply.filter((l) => /modprobe/.test(l))).toEqual([]);
    }
  });

  it("the rules stage fills the sets before the rules that name them, guards ARP before them, and prunes sets last", () => {
    const apply = body(stage("firewall/h2").apply).map((l) => l.trim());
    const at = (prefix: string) => apply.findIndex((l) => l.startsWith(prefix));
    expect(at("ipset restore")).toBeGreaterThan(-1);
    expect(at("ipset restore")).toBeLessThan(at("cn_in - iptables-restore"));
    expect(at("nft -f -")).toBeGreaterThan(-1);
    expect(at("nft -f -")).toBeLessThan(at("cn_in - iptables-restore"));
    expect(apply.at(-1)).toBe("cn_ipset_prune cn-sec- cn-sec-web-4,cn-sec-web-6");
    // Host settings are the network stage's, not the rules'.
    expect(apply.filter((l) => /sysctl|br_netfilter|cn_brnf/.test(l))).toEqual([]);
    expect(stage("firewall/h2").owns).toEqual(expect.arrayContaining([
      { kind: "ipset", name: "cn-sec-web-4", family: 4 }, { kind: "ipset", name: "cn-sec-web-6", family: 6 }, { kind: "nft-table", name: "cn_sec" },
    ]));
  });

  it("a lab whose guests join no group gets only the host guard in its firewall stage (no group chains, sets or bridge table), and unfiltered bridges", () => {
    const l = securityLab("sec");
    const plain = new Lab(new TerraformStack(new App(), "s2"), "plain");
    plain.addHost("h1");
    plain.addGuest("g1", { host: "h1", nics: [{ segment: plain.addSegment("net", { cidr: "10.0.0.0/24" }) }] });
    const plainStages = renderLab(resolved(plain));
    const rules = plainStages.filter((s) => s.id.startsWith("firewall"));
    expect(rules.map((s) => s.id)).toEqual(["firewall/h1"]);
    // It owns the host guard's chains, in both families, and no set or bridge table.
    expect((rules[0].owns ?? []).map((o) => ("table" in o ? `${o.kind} ${o.family} ${o.table} ${o.name}` : o.kind)).sort()).toEqual(
      [4, 6].flatMap((f) => [`chain ${f} filter CN-plain-FWD`, `chain ${f} filter CN-plain-IN`, `chain ${f} raw CN-plain-ZONE`]).sort());
    const payloads = [...rules[0].apply.matchAll(/^cn_in - ip6?tables-restore -w --noflush <<'CLOUDNET_EOF'\n([\s\S]*?)\nCLOUDNET_EOF$/gm)].map((m) => m[1]);
    expect(payloads).toHaveLength(2);
    for (const p of payloads) expect([...p.matchAll(/^:(\S+) /gm)].map((m) => m[1])).toEqual(["CN-plain-ZONE", "CN-plain-FWD", "CN-plain-IN"]);
    expect(body(rules[0].apply).filter((x) => /^\s*(ipset|nft) /.test(x))).toEqual(["nft delete table bridge cn_plain 2>/dev/null || true"]);
    const net = body(plainStages.find((s) => s.id === "network/h1")!.apply);
    expect(net).toContain("ip link set plainb-net type bridge nf_call_iptables 0 nf_call_ip6tables 0");
    expect(net.filter((l) => l.includes("cn_brnf_hold"))).toEqual([]);
    expect(renderLab(resolved(l)).filter((s) => s.id.startsWith("firewall")).map((s) => s.id)).toEqual(["firewall/h1", "firewall/h2"]);
  });
});
