import { renderLab } from "../../lib/render";
import { HELPER_LIBRARY, usedHelpers } from "../../lib/render/shell";
import { securityLab } from "../kernel/fixtures/security-lab";
import { tenantLab } from "../kernel/fixtures/tenant-lab";

const HELPERS = [
  "X=${Y:-1}",
  "# cn_one: comments stay in the source",
  "cn_one() { echo one; }",
  "cn_two() {",
  "  cn_one",
  "}",
  "cn_three() { echo three; }",
].join("\n");

describe("shell helpers travel only where they are used", () => {
  test("a helper called through another one comes along, an unused one and the comments stay behind", () => {
    expect(usedHelpers(HELPERS, "cn_two")).toBe(["X=${Y:-1}", "cn_one() { echo one; }", "cn_two() {", "  cn_one", "}"].join("\n"));
    expect(usedHelpers(HELPERS, "echo nothing")).toBe("X=${Y:-1}");
  });

  test("a name inside another word does not count as a call", () => {
    expect(usedHelpers(HELPERS, "xcn_three cn_three_x")).toBe("X=${Y:-1}");
  });

  test("helpers must be named cn_…: scripts are scanned for that prefix only", () => {
    expect(() => usedHelpers("other() { :; }", "other")).toThrow("shell helper 'other() { :; }' must be named cn_…");
  });

  test("every helper any stage of a varied lab calls is defined in that stage's script or in the library it sources", () => {
    const all = HELPER_LIBRARY;
    const names = [...all.matchAll(/^([a-z_][a-z0-9_]*)\(\) \{/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(20);
    const stages = [tenantLab("hx"), securityLab("hy")].flatMap((lab) => renderLab(lab.resolve().lab!));
    expect(stages.length).toBeGreaterThan(20);
    for (const s of stages) {
      for (const script of [s.apply, s.teardown]) {
        // Apply scripts source the library; teardown scripts carry what they use.
        const sourced = /^\. "\$cn_lib"$/m.test(script) ? HELPER_LIBRARY : "";
        const defined = new Set([...`${script}\n${sourced}`.matchAll(/^([a-z_][a-z0-9_]*)\(\) \{/gm)].map((m) => m[1]));
        const called = names.filter((n) => new RegExp(`(^|[^a-z0-9_])${n}([^a-z0-9_]|$)`, "m").test(script.replace(/^[a-z_0-9]+\(\) \{/gm, "")));
        expect({ stage: s.id, missing: called.filter((n) => !defined.has(n)) }).toEqual({ stage: s.id, missing: [] });
      }
    }
  });
});
