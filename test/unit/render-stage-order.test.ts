import { Stage, renderLab, stageFingerprints } from "../../lib/render";
import { demoSpec, emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";

const afterOf = (stages: Stage[]) => Object.fromEntries(stages.map((s) => [s.id, [...s.after]]));

describe("renderLab stages and their order", () => {
  const stages = renderLab(resolveOk(demoSpec()));

  it("renders fabric, each host with its owner, network and rules (the host guard), the guests, the inventory, then the converge stages", () => {
    expect(stages.map((s) => s.id)).toEqual([
      "helpers", "fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "guest/web", "guest/db", "inventory",
      "converge/h1", "converge/h2", "converge",
    ]);
  });

  it("orders fabric -> host/* -> owner/* -> network/* -> firewall/* -> guest/* -> inventory -> converge/* -> converge through `after`", () => {
    expect(afterOf(stages)).toEqual({
      "helpers": [],
      "fabric": [],
      "host/h1": ["fabric"],
      "owner/h1": ["host/h1"],
      "network/h1": ["owner/h1"],
      "firewall/h1": ["network/h1"],
      "host/h2": ["fabric"],
      "owner/h2": ["host/h2"],
      "network/h2": ["owner/h2"],
      "firewall/h2": ["network/h2"],
      // A guest comes up only once its host's guard is in force.
      "guest/web": ["network/h1", "firewall/h1"],
      "guest/db": ["network/h2", "firewall/h2"],
      "inventory": ["fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "guest/web", "guest/db"],
      // A host's converge comes after every stage that runs on that host, and only those.
      "converge/h1": ["owner/h1", "network/h1", "firewall/h1"],
      "converge/h2": ["owner/h2", "network/h2", "firewall/h2"],
      // The controller's converge comes after everything.
      "converge": [
        "fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "guest/web", "guest/db", "inventory",
        "converge/h1", "converge/h2",
      ],
    });
  });

  it("re-applies a stage only for the replacements that need it: owners, converges, guests and the inventory for none", () => {
    const replacedWith = Object.fromEntries(stages.map((s) => [s.id, s.replacedWith === undefined ? "after" : [...s.replacedWith]]));
    expect(replacedWith).toEqual({
      "helpers": "after", "fabric": "after", "host/h1": "after", "host/h2": "after", "network/h1": "after", "network/h2": "after",
      // The rules are re-applied with their host's network (a rebuilt router namespace gets its rules back).
      "firewall/h1": ["network/h1"], "firewall/h2": ["network/h2"],
      "owner/h1": [], "owner/h2": [],
      // A guest that owns its namespace converges in place: a changed network below it does not replace it.
      "guest/web": [], "guest/db": [],
      "inventory": [], "converge/h1": [], "converge/h2": [], "converge": [],
    });
  });

  it("lists every stage after the stages it needs, and ids are unique", () => {
    const seen = new Set<string>();
    for (const s of stages) {
      for (const dep of s.after) expect(seen).toContain(dep);
      expect(seen.has(s.id)).toBe(false);
      seen.add(s.id);
    }
  });

  it("runs namespace-making stages on the controller and network stages on their host", () => {
    expect(Object.fromEntries(stages.map((s) => [s.id, s.runOn]))).toMatchObject({
      "helpers": { kind: "controller" },
      "fabric": { kind: "controller" },
      "host/h1": { kind: "controller" },
      "owner/h1": { kind: "host", host: "h1" },
      "network/h1": { kind: "host", host: "h1" },
      "firewall/h1": { kind: "host", host: "h1" },
      "firewall/h2": { kind: "host", host: "h2" },
      "guest/web": { kind: "controller" },
      "inventory": { kind: "controller" },
      "converge/h1": { kind: "host", host: "h1" },
      "converge/h2": { kind: "host", host: "h2" },
      "converge": { kind: "controller" },
    });
  });

  it("puts a guest straight after its host's owner when the host has no segment", () => {
    const s = renderLab(resolveOk(emulatedLab({ hosts: [host("h1")], guests: [guest("lonely", "h1")] })));
    expect(s.map((x) => x.id)).toEqual(["helpers", "fabric", "host/h1", "owner/h1", "guest/lonely", "inventory", "converge/h1", "converge"]);
    expect(afterOf(s)["guest/lonely"]).toEqual(["owner/h1"]);
    expect(afterOf(s)["converge/h1"]).toEqual(["owner/h1"]);
  });

  it("renders only owner, network, rules and converge stages for real hosts, each host's owner first and with no dependencies", () => {
    const s = renderLab(resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10"), sshHost("h2", "192.0.2.11"), sshHost("h3", "192.0.2.12")],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h1", "h2"] })],
      guests: [guest("web", "h1", [{ segment: "blue" }])],
    })));
    expect(s.map((x) => x.id)).toEqual(["helpers/h1", "helpers/h2", "helpers/h3", "owner/h1", "network/h1", "firewall/h1", "owner/h2", "network/h2", "firewall/h2", "owner/h3", "converge/h1", "converge/h2", "converge/h3"]);
    expect(afterOf(s)).toEqual({
      "helpers/h1": [], "helpers/h2": [], "helpers/h3": [],
      "owner/h1": [], "network/h1": ["owner/h1"], "firewall/h1": ["network/h1"],
      "owner/h2": [], "network/h2": ["owner/h2"], "firewall/h2": ["network/h2"],
      // h3 takes part in nothing, yet has an owner (to remove what an older version put there) and a converge; no segment, no guard.
      "owner/h3": [],
      "converge/h1": ["owner/h1", "network/h1", "firewall/h1"], "converge/h2": ["owner/h2", "network/h2", "firewall/h2"], "converge/h3": ["owner/h3"],
    });
    expect(s.every((x) => x.runOn.kind === "host")).toBe(true);
    // Each host's stages source the library that its own library stage puts there.
    expect(Object.fromEntries(s.map((x) => [x.id, x.library]))).toEqual(Object.fromEntries(s.map((x) =>
      [x.id, x.id.startsWith("helpers/") ? undefined : `helpers/${(x.runOn as { host: string }).host}`])));
  });

  it("ties every emulated stage to the lab's one library stage, which needs nothing", () => {
    expect(stages[0]).toMatchObject({ id: "helpers", after: [] });
    expect(stages[0].library).toBeUndefined();
    expect(stages.slice(1).every((s) => s.library === "helpers")).toBe(true);
  });
});

describe("stageFingerprints", () => {
  const stage = (id: string, after: string[], extra: Partial<Stage> = {}): Stage => ({
    id, runOn: { kind: "controller" }, title: id, apply: `apply ${id}\n`, teardown: `teardown ${id}\n`, after, ...extra,
  });
  const base = [stage("a", []), stage("b", ["a"]), stage("c", ["a", "b"], { replacedWith: ["b"] })];
  const prints = stageFingerprints(base);

  it("gives every stage a distinct sha256", () => {
    expect([...prints.keys()]).toEqual(["a", "b", "c"]);
    for (const p of prints.values()) expect(p).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(prints.values()).size).toBe(3);
  });

  it("changes with the stage's own apply or teardown", () => {
    expect(stageFingerprints([stage("a", [], { apply: "other\n" })]).get("a")).not.toBe(prints.get("a"));
    expect(stageFingerprints([stage("a", [], { teardown: "other\n" })]).get("a")).not.toBe(prints.get("a"));
    expect(stageFingerprints([stage("a", [])]).get("a")).toBe(prints.get("a"));
  });

  it("follows the stages in replacedWith (all of `after` by default), and only those", () => {
    const changedA = stageFingerprints([stage("a", [], { apply: "other\n" }), ...base.slice(1)]);
    // b comes after a (replacedWith defaults to after): a new a re-applies b, and through b, c.
    expect(changedA.get("b")).not.toBe(prints.get("b"));
    expect(changedA.get("c")).not.toBe(prints.get("c"));
    // c is re-applied with b only: when a changes but b does not (b ignores a), c keeps its fingerprint though it comes after a too.
    const onlyA = stageFingerprints([stage("a", [], { apply: "other\n" }), stage("b", ["a"], { replacedWith: [] }), base[2]]);
    const sameB = stageFingerprints([base[0], stage("b", ["a"], { replacedWith: [] }), base[2]]);
    expect(onlyA.get("c")).toBe(sameB.get("c"));
    // An owner-like stage (replacedWith: []) never changes for the stages it comes after.
    const owner = (a: Stage) => stageFingerprints([a, stage("o", ["a"], { replacedWith: [] })]).get("o");
    expect(owner(stage("a", [], { apply: "other\n" }))).toBe(owner(base[0]));
  });

  it("refuses a stage that comes after one rendered later", () => {
    expect(() => stageFingerprints([stage("b", ["a"]), stage("a", [])])).toThrow("stage b comes after a, which is not rendered before it");
  });
});
