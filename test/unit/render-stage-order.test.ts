import { Stage, renderLab } from "../../lib/render";
import { demoSpec, emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";

const afterOf = (stages: Stage[]) => Object.fromEntries(stages.map((s) => [s.id, [...s.after]]));

describe("renderLab stages and their order", () => {
  const stages = renderLab(resolveOk(demoSpec()));

  it("renders fabric, each host with its owner and network, the guests, the inventory, then the converge stages", () => {
    expect(stages.map((s) => s.id)).toEqual([
      "fabric", "host/h1", "owner/h1", "network/h1", "host/h2", "owner/h2", "network/h2", "guest/web", "guest/db", "inventory",
      "converge/h1", "converge/h2", "converge",
    ]);
  });

  it("orders fabric -> host/* -> owner/* -> network/* -> guest/* -> inventory -> converge/* -> converge through `after`", () => {
    expect(afterOf(stages)).toEqual({
      "fabric": [],
      "host/h1": ["fabric"],
      "owner/h1": ["host/h1"],
      "network/h1": ["owner/h1"],
      "host/h2": ["fabric"],
      "owner/h2": ["host/h2"],
      "network/h2": ["owner/h2"],
      "guest/web": ["network/h1"],
      "guest/db": ["network/h2"],
      "inventory": ["fabric", "host/h1", "owner/h1", "network/h1", "host/h2", "owner/h2", "network/h2", "guest/web", "guest/db"],
      // A host's converge comes after every stage that runs on that host, and only those.
      "converge/h1": ["owner/h1", "network/h1"],
      "converge/h2": ["owner/h2", "network/h2"],
      // The controller's converge comes after everything.
      "converge": [
        "fabric", "host/h1", "owner/h1", "network/h1", "host/h2", "owner/h2", "network/h2", "guest/web", "guest/db", "inventory",
        "converge/h1", "converge/h2",
      ],
    });
  });

  it("re-applies a stage only for the replacements that need it: owners, converges, guests and the inventory for none", () => {
    const replacedWith = Object.fromEntries(stages.map((s) => [s.id, s.replacedWith === undefined ? "after" : [...s.replacedWith]]));
    expect(replacedWith).toEqual({
      "fabric": "after", "host/h1": "after", "host/h2": "after", "network/h1": "after", "network/h2": "after",
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
      "fabric": { kind: "controller" },
      "host/h1": { kind: "controller" },
      "owner/h1": { kind: "host", host: "h1" },
      "network/h1": { kind: "host", host: "h1" },
      "guest/web": { kind: "controller" },
      "inventory": { kind: "controller" },
      "converge/h1": { kind: "host", host: "h1" },
      "converge/h2": { kind: "host", host: "h2" },
      "converge": { kind: "controller" },
    });
  });

  it("puts a guest straight after its host's owner when the host has no segment", () => {
    const s = renderLab(resolveOk(emulatedLab({ hosts: [host("h1")], guests: [guest("lonely", "h1")] })));
    expect(s.map((x) => x.id)).toEqual(["fabric", "host/h1", "owner/h1", "guest/lonely", "inventory", "converge/h1", "converge"]);
    expect(afterOf(s)["guest/lonely"]).toEqual(["owner/h1"]);
    expect(afterOf(s)["converge/h1"]).toEqual(["owner/h1"]);
  });

  it("renders only owner, network and converge stages for real hosts, each host's owner first and with no dependencies", () => {
    const s = renderLab(resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10"), sshHost("h2", "192.0.2.11"), sshHost("h3", "192.0.2.12")],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h1", "h2"] })],
      guests: [guest("web", "h1", [{ segment: "blue" }])],
    })));
    expect(s.map((x) => x.id)).toEqual(["owner/h1", "network/h1", "owner/h2", "network/h2", "owner/h3", "converge/h1", "converge/h2", "converge/h3"]);
    expect(afterOf(s)).toEqual({
      "owner/h1": [], "network/h1": ["owner/h1"],
      "owner/h2": [], "network/h2": ["owner/h2"],
      // h3 takes part in nothing, yet has an owner (to remove what an older version put there) and a converge.
      "owner/h3": [],
      "converge/h1": ["owner/h1", "network/h1"], "converge/h2": ["owner/h2", "network/h2"], "converge/h3": ["owner/h3"],
    });
    expect(s.every((x) => x.runOn.kind === "host")).toBe(true);
  });
});
