import { Ruleset, applyRuleset } from "../../lib/render";

/** Ruleset.hook: one jump per built-in chain and table, kept first there; more go through that chain. */
describe("Ruleset.hook", () => {
  it("refuses a second hook into the same built-in chain of the same table, naming the chain that has it", () => {
    const rs = new Ruleset(4, "t");
    const fwd = rs.chain("filter", "FWD");
    const sg = rs.chain("filter", "SG");
    rs.hook("filter", "FORWARD", fwd);
    expect(() => rs.hook("filter", "FORWARD", sg)).toThrow("filter FORWARD already leads to CN-t-FWD; jump to CN-t-SG from there");
    // Not even the same chain twice.
    expect(() => rs.hook("filter", "FORWARD", fwd)).toThrow("filter FORWARD already leads to CN-t-FWD; jump to CN-t-FWD from there");
    expect(rs.hooks).toEqual([{ table: "filter", builtin: "FORWARD", chain: fwd }]);
  });

  it("allows one hook per built-in chain and table: the same built-in in another table, or the same chain from two built-ins", () => {
    const rs = new Ruleset(4, "t");
    const dnat = rs.chain("nat", "DNAT");
    const zone = rs.chain("raw", "ZONE");
    rs.hook("nat", "PREROUTING", dnat);
    rs.hook("nat", "OUTPUT", dnat);
    rs.hook("raw", "PREROUTING", zone);
    expect(rs.hooks.map((h) => `${h.table} ${h.builtin} ${h.chain}`)).toEqual(["nat PREROUTING CN-t-DNAT", "nat OUTPUT CN-t-DNAT", "raw PREROUTING CN-t-ZONE"]);
    expect(applyRuleset(rs).filter((l) => l.startsWith("cn_hook_first "))).toEqual([
      "cn_hook_first - iptables nat PREROUTING CN-t-DNAT", "cn_hook_first - iptables nat OUTPUT CN-t-DNAT", "cn_hook_first - iptables raw PREROUTING CN-t-ZONE",
    ]);
  });

  it("each family's ruleset has its own hooks", () => {
    for (const family of [4, 6] as const) {
      const rs = new Ruleset(family, "t");
      rs.hook("filter", "INPUT", rs.chain("filter", "IN"));
      expect(() => rs.hook("filter", "INPUT", rs.chain("filter", "IN2"))).toThrow("filter INPUT already leads to CN-t-IN");
    }
  });
});
