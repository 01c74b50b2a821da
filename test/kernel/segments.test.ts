import { LabSpec } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { applyAll, resolved, runStage, teardownAll } from "../support/apply";
import { canPing, cleanupPrefix, netnsWithPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { withoutTimers } from "../support/kernel-state";
import { requireRoot } from "../support/root";

/**
 * Two emulated hosts, two segments with the same subnet: guests reach their own segment across
 * hosts over VXLAN, never the other segment. Applied stage by stage, the way Terraform runs them.
 */
const prefix = uniquePrefix("k");
const spec = (name = prefix): LabSpec => ({
  name, path: "lab", backend: { kind: "emulated", fabricCidr: "198.18.0.0/24" },
  hosts: [{ name: "h1", path: "lab/h1" }, { name: "h2", path: "lab/h2" }],
  segments: [
    { name: "blue", path: "lab/blue", cidr: "10.10.0.0/24" },
    { name: "red", path: "lab/red", cidr: "10.10.0.0/24" },
  ],
  guests: [
    { name: "b1", path: "lab/b1", host: "h1", compute: { kind: "container", container: { image: "x" } }, nics: [{ segment: "blue", address: "10.10.0.11" }] },
    { name: "b2", path: "lab/b2", host: "h2", compute: { kind: "container", container: { image: "x" } }, nics: [{ segment: "blue", address: "10.10.0.12" }] },
    { name: "r1", path: "lab/r1", host: "h1", compute: { kind: "container", container: { image: "x" } }, nics: [{ segment: "red", address: "10.10.0.21" }] },
    { name: "r2", path: "lab/r2", host: "h2", compute: { kind: "container", container: { image: "x" } }, nics: [{ segment: "red", address: "10.10.0.12" }] },
  ],
});

/** Everything observable about the lab's kernel state; running timers (gc_timer, ...) left out. */
function kernelState(): string {
  return withoutTimers(netnsWithPrefix(prefix).sort().map((ns) => [
    `== ${ns}`,
    run("ip", ["-n", ns, "-d", "link", "show"]),
    run("ip", ["-n", ns, "-br", "addr", "show"]),
    run("ip", ["-n", ns, "route", "show"]),
    run("bridge", ["-n", ns, "fdb", "show", "nomaster"]).split("\n").filter((l) => l.includes(" dst ")).join("\n"),
  ].join("\n")).join("\n"));
}

describe("segments on emulated hosts (kernel)", () => {
  const lab = resolved(spec());
  let stages: Stage[] = [];

  beforeAll(() => {
    requireRoot();
    stages = applyAll(lab);
  });
  afterAll(() => cleanupPrefix(prefix));

  test("guests reach their segment across hosts over VXLAN", () => {
    expect(canPing(`${prefix}-b1`, "10.10.0.12")).toBe(true);
    expect(canPing(`${prefix}-r1`, "10.10.0.12")).toBe(true);
    expect(canPing(`${prefix}-b2`, "10.10.0.11")).toBe(true);
  });

  test("no packet crosses between segments that share a subnet", () => {
    expect(canPing(`${prefix}-b1`, "10.10.0.21")).toBe(false);
    expect(canPing(`${prefix}-r1`, "10.10.0.11")).toBe(false);
    // b2 and r2 have the same address: each must see only its own segment's neighbour.
    const neigh = (ns: string) => run("ip", ["-n", ns, "neigh", "show", "10.10.0.12"]);
    const b2mac = run("ip", ["-n", `${prefix}-b2`, "-br", "link", "show", "eth0"]).split(/\s+/)[2];
    const r2mac = run("ip", ["-n", `${prefix}-r2`, "-br", "link", "show", "eth0"]).split(/\s+/)[2];
    expect(neigh(`${prefix}-b1`)).toContain(b2mac);
    expect(neigh(`${prefix}-r1`)).toContain(r2mac);
  });

  test("guest NICs get the VXLAN-reduced MTU and their stable MAC", () => {
    const g = lab.guests.find((x) => x.name === "b1")!;
    const link = run("ip", ["-n", `${prefix}-b1`, "link", "show", "eth0"]);
    expect(link).toContain("mtu 1450");
    expect(link).toContain(g.nics[0].mac.toString());
    expect(nsExec(`${prefix}-b1`, "ping", ["-c", "1", "-W", "2", "-M", "do", "-s", "1422", "10.10.0.12"]).status).toBe(0);
  });

  test("applying every stage a second time changes no kernel state", () => {
    const before = kernelState();
    for (const s of stages) expect(runStage(lab, s, "apply").status).toBe(0);
    expect(kernelState()).toBe(before);
  });

  test("teardown removes everything the lab created, and a second teardown is fine", () => {
    teardownAll(lab, stages);
    expect(netnsWithPrefix(prefix)).toEqual([]);
    teardownAll(lab, stages);
  });
});

describe("a failing apply rolls back (kernel)", () => {
  const p2 = uniquePrefix("k");
  afterAll(() => cleanupPrefix(p2));

  test("a guest whose bridge is missing leaves no namespace behind", () => {
    requireRoot();
    const lab = resolved({ ...spec(p2) });
    const stages = renderLab(lab);
    // Apply the fabric and host, skip the network stage: the guest cannot plug into its bridge.
    for (const id of ["helpers", "fabric", "host/h1"]) expect(runStage(lab, stages.find((s) => s.id === id)!, "apply").status).toBe(0);
    const guest = stages.find((s) => s.id === "guest/b1")!;
    const r = runStage(lab, guest, "apply");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("rolling back");
    expect(netnsWithPrefix(p2).sort()).toEqual([`${p2}-fabric`, `${p2}-h1`]);
  });
});

describe("foreign state on a host survives (kernel)", () => {
  const p3 = uniquePrefix("k");
  afterAll(() => cleanupPrefix(p3));

  test("bridges and links the lab does not own are untouched by apply, convergence and the owner's teardown", () => {
    requireRoot();
    const lab = resolved(spec(p3));
    const stages = renderLab(lab);
    const byId = (id: string) => stages.find((s) => s.id === id)!;
    for (const id of ["helpers", "fabric", "host/h1"]) expect(runStage(lab, byId(id), "apply").status).toBe(0);
    const ns = `${p3}-h1`;
    run("ip", ["-n", ns, "link", "add", "docker0", "type", "bridge"]);
    run("ip", ["-n", ns, "link", "add", "foreign0", "type", "veth", "peer", "name", "foreign1"]);
    run("ip", ["-n", ns, "link", "set", "foreign0", "master", "docker0"]);
    run("ip", ["-n", ns, "addr", "add", "172.17.0.1/16", "dev", "docker0"]);
    const foreign = () => run("ip", ["-n", ns, "-d", "link", "show", "master", "docker0"]) + run("ip", ["-n", ns, "-d", "addr", "show", "docker0"]);
    const before = foreign();
    for (const id of ["owner/h1", "network/h1", "converge/h1"]) expect(runStage(lab, byId(id), "apply").status).toBe(0);
    expect(run("ip", ["-n", ns, "-br", "link"])).toContain(`${p3}b-blue`);
    expect(foreign()).toBe(before);
    expect(runStage(lab, byId("owner/h1"), "teardown").status).toBe(0);
    expect(run("ip", ["-n", ns, "-br", "link"])).not.toContain(`${p3}b-blue`);
    expect(foreign()).toBe(before);
  });
});
