import fc from "fast-check";
import { MAX_CHAIN_NAME, Ruleset, applyRuleset, chainMarker, chainName, restorePayload } from "../../lib/render";
import { shortHash } from "../../lib/net";
import { parseRestore, shares, trace, verdict } from "./support/iptables";

/** The iptables-restore payload, the apply lines around it, and chain names. */

function sample(netns?: string): Ruleset {
  const rs = new Ruleset(4, "t", netns);
  const dnat = rs.chain("nat", "DNAT");
  const fwd = rs.chain("filter", "FWD");
  const raw = rs.chain("raw", "ZONE");
  const svc = rs.chain("nat", "SVC-api");
  rs.hook("nat", "PREROUTING", dnat);
  rs.hook("filter", "FORWARD", fwd);
  rs.hook("raw", "PREROUTING", raw);
  rs.rule(dnat, "-d 10.96.0.10/32 -p tcp --dport 80 -j CN-t-SVC-api");
  rs.rule(svc, "-p tcp -j DNAT --to-destination 10.1.0.10:8080");
  rs.rule(fwd, "-i tx-web -j ACCEPT");
  rs.rule(raw, "-m physdev --physdev-is-in -j CT --zone 7");
  return rs;
}

describe("restorePayload", () => {
  const payload = restorePayload(sample());

  it("is one block per table (raw, nat, filter order): *table, every chain declared, then its rules, COMMIT", () => {
    expect(payload).toBe([
      "*raw",
      ":CN-t-ZONE - [0:0]",
      "-A CN-t-ZONE -m physdev --physdev-is-in -j CT --zone 7",
      "COMMIT",
      "*nat",
      ":CN-t-DNAT - [0:0]",
      ":CN-t-SVC-api - [0:0]",
      "-A CN-t-DNAT -d 10.96.0.10/32 -p tcp --dport 80 -j CN-t-SVC-api",
      "-A CN-t-SVC-api -p tcp -j DNAT --to-destination 10.1.0.10:8080",
      "COMMIT",
      "*filter",
      ":CN-t-FWD - [0:0]",
      "-A CN-t-FWD -i tx-web -j ACCEPT",
      "COMMIT",
      "",
    ].join("\n"));
  });

  it("each block declares and fills only chains of its own table", () => {
    const tables = parseRestore(payload);
    expect([...tables.keys()]).toEqual(["raw", "nat", "filter"]);
    expect([...tables.get("nat")!.keys()]).toEqual(["CN-t-DNAT", "CN-t-SVC-api"]);
    expect([...tables.get("filter")!.keys()]).toEqual(["CN-t-FWD"]);
  });

  it("a chain declared without rules is still declared (so restore empties it)", () => {
    const rs = new Ruleset(4, "t");
    rs.chain("filter", "FWD");
    expect(restorePayload(rs)).toBe("*filter\n:CN-t-FWD - [0:0]\nCOMMIT\n");
  });

  it("a chain purpose cannot be used in two tables", () => {
    const rs = new Ruleset(4, "t");
    rs.chain("nat", "X");
    expect(() => rs.chain("filter", "X")).toThrow("chain CN-t-X declared in two tables");
  });
});

describe("applyRuleset", () => {
  it("for an empty ruleset only prunes: a ruleset that lost its last rule leaves no chain behind", () => {
    expect(applyRuleset(new Ruleset(4, "t"))).toEqual(
      ["raw", "mangle", "nat", "filter"].map((table) => `cn_fw_prune - iptables iptables-save ${table} CN-t- -`),
    );
  });

  const lines = applyRuleset(sample());

  it("starts with exactly one restore heredoc (--noflush) carrying the payload", () => {
    expect(lines[0]).toBe(`cn_in - iptables-restore -w --noflush <<'CLOUDNET_EOF'\n${restorePayload(sample())}CLOUDNET_EOF`);
    expect(lines.filter((l) => l.includes("iptables-restore"))).toHaveLength(1);
    expect(lines.join("\n").match(/<<'/g)).toHaveLength(1);
  });

  it("then keeps each hook first in its built-in chain (cn_hook_first), in the order they were declared", () => {
    expect(lines.slice(1, 4)).toEqual([
      "cn_hook_first - iptables nat PREROUTING CN-t-DNAT",
      "cn_hook_first - iptables filter FORWARD CN-t-FWD",
      "cn_hook_first - iptables raw PREROUTING CN-t-ZONE",
    ]);
  });

  it("then prunes, in every table, the lab's chains that are not in the keep list (all of them where the table is unused)", () => {
    expect(lines.slice(4)).toEqual([
      "cn_fw_prune - iptables iptables-save raw CN-t- CN-t-ZONE",
      "cn_fw_prune - iptables iptables-save mangle CN-t- -",
      "cn_fw_prune - iptables iptables-save nat CN-t- CN-t-DNAT,CN-t-SVC-api",
      "cn_fw_prune - iptables iptables-save filter CN-t- CN-t-FWD",
    ]);
  });

  it("runs inside the ruleset's namespace, and with the IPv6 tools for family 6", () => {
    const inRouter = applyRuleset(sample("t-rt.web"));
    expect(inRouter.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["cn_in t-rt.web", ...Array(3).fill("cn_hook_first t-rt.web"), ...Array(4).fill("cn_fw_prune t-rt.web")]);
    const v6 = new Ruleset(6, "t");
    rs6(v6);
    const six = applyRuleset(v6);
    expect(six[0].startsWith("cn_in - ip6tables-restore -w --noflush <<'CLOUDNET_EOF'\n")).toBe(true);
    expect(six[1]).toBe("cn_hook_first - ip6tables filter FORWARD CN-t-FWD");
    expect(six.slice(2)).toEqual(["raw", "mangle", "nat"].map((t) => `cn_fw_prune - ip6tables ip6tables-save ${t} CN-t- -`).concat("cn_fw_prune - ip6tables ip6tables-save filter CN-t- CN-t-FWD"));
  });
});

function rs6(rs: Ruleset): void {
  const fwd = rs.chain("filter", "FWD");
  rs.hook("filter", "FORWARD", fwd);
  rs.rule(fwd, "-j ACCEPT");
}

describe("chainName", () => {
  const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
  const purpose = fc.stringMatching(/^[A-Za-z0-9-]{1,80}$/);

  it("is at most 28 characters and starts with the lab's marker, for any prefix and purpose", () => {
    fc.assert(fc.property(prefix, purpose, (p, what) => {
      const name = chainName(p, what);
      expect(name.length).toBeLessThanOrEqual(MAX_CHAIN_NAME);
      expect(name.startsWith(chainMarker(p))).toBe(true);
    }), { numRuns: 500 });
    expect(MAX_CHAIN_NAME).toBe(28);
  });

  it("is readable when it fits, and a truncation plus a hash of the purpose when it does not", () => {
    fc.assert(fc.property(prefix, purpose, (p, what) => {
      const full = `CN-${p}-${what}`;
      const name = chainName(p, what);
      if (full.length <= 28) expect(name).toBe(full);
      else {
        expect(name).toHaveLength(28);
        expect(name.endsWith(`-${shortHash(what, 8)}`)).toBe(true);
        expect(full.startsWith(name.slice(0, 28 - 9))).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it("two long purposes that share their first characters still get different names", () => {
    const a = chainName("abcdef", "SVC-a-very-long-service-name-one");
    const b = chainName("abcdef", "SVC-a-very-long-service-name-two");
    expect(a).toHaveLength(28);
    expect(b).toHaveLength(28);
    expect(a).not.toBe(b);
  });
});

describe("the test tracer itself (support/iptables.ts)", () => {
  const tables = parseRestore([
    "*nat",
    ":CN-t-IN - [0:0]",
    ":CN-t-SUB - [0:0]",
    "-A CN-t-IN -m physdev --physdev-is-in -j RETURN",
    "-A CN-t-IN -p tcp --dport 80 -j CN-t-SUB",
    "-A CN-t-IN -p tcp -j DNAT --to-destination 10.0.0.9",
    "-A CN-t-SUB -s 10.0.0.0/8 -j RETURN",
    "-A CN-t-SUB -m statistic --mode random --probability 0.2500000000 -j DNAT --to-destination 10.0.0.1",
    "-A CN-t-SUB -j DNAT --to-destination 10.0.0.2",
    "COMMIT",
    "",
  ].join("\n"));
  const pkt = { src: "192.0.2.1", dst: "192.0.2.2", proto: "tcp" as const, dport: 80 };

  it("branches on statistic matches", () => {
    expect(shares(trace(tables, "nat", "CN-t-IN", pkt))).toEqual({ "DNAT --to-destination 10.0.0.1": 0.25, "DNAT --to-destination 10.0.0.2": 0.75 });
  });

  it("continues in the calling chain after a RETURN, and reports RETURN / END at the entry chain", () => {
    expect(verdict(tables, "nat", "CN-t-IN", { ...pkt, src: "10.1.1.1" })).toEqual({ probability: 1, target: "DNAT", args: ["--to-destination", "10.0.0.9"] });
    expect(verdict(tables, "nat", "CN-t-IN", { ...pkt, bridged: true }).target).toBe("RETURN");
    expect(verdict(tables, "nat", "CN-t-IN", { ...pkt, proto: "udp" }).target).toBe("END");
  });

  it("refuses what it does not understand", () => {
    expect(() => parseRestore("*nat\n-A X -j ACCEPT\nCOMMIT\n")).toThrow("rule for chain X, which table nat does not declare");
    expect(() => parseRestore("*nat\n:X - [0:0]\n")).toThrow("table nat has no COMMIT");
    const odd = parseRestore("*filter\n:X - [0:0]\n-A X -m mark --mark 1 -j ACCEPT\nCOMMIT\n");
    expect(() => trace(odd, "filter", "X", pkt)).toThrow("unknown match module mark");
  });
});
