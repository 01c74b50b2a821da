import { Stage, renderLab } from "../../lib/render";
import { demoSpec, emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";

const afterOf = (stages: Stage[]) => Object.fromEntries(stages.map((s) => [s.id, [...s.after]]));

describe("renderLab stages and their order", () => {
  const stages = renderLab(resolveOk(demoSpec()));

  it("renders fabric, each host with its network, the guests, then the inventory", () => {
    expect(stages.map((s) => s.id)).toEqual([
      "fabric", "host/h1", "network/h1", "host/h2", "network/h2", "guest/web", "guest/db", "inventory",
    ]);
  });

  it("orders fabric -> host/* -> network/* -> guest/* -> inventory through `after`", () => {
    expect(afterOf(stages)).toEqual({
      "fabric": [],
      "host/h1": ["fabric"],
      "network/h1": ["host/h1"],
      "host/h2": ["fabric"],
      "network/h2": ["host/h2"],
      "guest/web": ["network/h1"],
      "guest/db": ["network/h2"],
      "inventory": ["fabric", "host/h1", "network/h1", "host/h2", "network/h2", "guest/web", "guest/db"],
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
      "network/h1": { kind: "host", host: "h1" },
      "guest/web": { kind: "controller" },
      "inventory": { kind: "controller" },
    });
  });

  it("puts a guest straight after its host when the host has no segment", () => {
    const s = renderLab(resolveOk(emulatedLab({ hosts: [host("h1")], guests: [guest("lonely", "h1")] })));
    expect(s.map((x) => x.id)).toEqual(["fabric", "host/h1", "guest/lonely", "inventory"]);
    expect(afterOf(s)["guest/lonely"]).toEqual(["host/h1"]);
  });

  it("renders only network stages, with no dependencies, for real hosts", () => {
    const s = renderLab(resolveOk(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10"), sshHost("h2", "192.0.2.11"), sshHost("h3", "192.0.2.12")],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h1", "h2"] })],
      guests: [guest("web", "h1", [{ segment: "blue" }])],
    })));
    expect(s.map((x) => x.id)).toEqual(["network/h1", "network/h2"]);
    expect(s.every((x) => x.after.length === 0)).toBe(true);
  });
});
