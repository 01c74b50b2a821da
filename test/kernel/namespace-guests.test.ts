import { App, TerraformStack } from "cdktf";
import { Backend, Compute, Lab, NetworkMode, Port, Target } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { cleanupPrefix, deleteNetns, run, tryRun, uniquePrefix } from "../support/netns";
import { createMachine, inMachine } from "../support/machine";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";

/**
 * `Compute.namespace()` guests on a real host: the stages of a Backend.hosts() lab run inside a
 * namespace that plays the machine (Target.local, as the local e2e does). The guests are namespaces
 * `<prefix>-g.<name>` with veths on the tenant bridge, filtered by their security groups; a guest
 * taken out of the code is removed by the converge stage, and the owner's teardown removes the rest.
 */
const p = uniquePrefix("n");
const machine = `${p}-machine`;
const gns = (g: string) => `${p}-g.${g}`;

function lab(withOther: boolean): ResolvedLab {
  const l = new Lab(new TerraformStack(new App(), "kernel"), "lab", { backend: Backend.hosts(), prefix: p });
  const h1 = l.addHost("h1", { target: Target.local(), underlayAddress: "192.0.2.1" });
  const app = l.addTenant("shop").addNetwork("app", { cidr: "10.70.0.0/24", mode: NetworkMode.nat(), hosts: [h1] });
  const web = l.addSecurityGroup("web");
  const db = l.addSecurityGroup("db");
  db.connections.allowFrom(web, Port.tcp(3306));
  const compute = Compute.namespace();
  l.addGuest("web1", { host: h1, compute, nics: [{ segment: app, address: "10.70.0.11" }], securityGroups: [web] });
  l.addGuest("db1", { host: h1, compute, nics: [{ segment: app, address: "10.70.0.21" }], securityGroups: [db] });
  if (withOther) l.addGuest("other", { host: h1, compute, nics: [{ segment: app, address: "10.70.0.31" }] });
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

const apply = (s: Stage) => inMachine(machine, s, "apply");

const labNamespaces = () => tryRun("ip", ["netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${p}-g.`) || n.startsWith(`${p}-rt.`)).sort();
const machineLinks = () => run("ip", ["-n", machine, "-o", "link", "show"]).split("\n").map((l) => l.split(": ")[1]?.split("@")[0]).filter(Boolean).sort();

describe("namespace guests on a real host (kernel)", () => {
  beforeAll(() => {
    requireRoot();
    createMachine(machine);
  });
  afterAll(() => {
    stopServers();
    for (const ns of labNamespaces()) deleteNetns(ns);
    deleteNetns(machine);
    cleanupPrefix(p);
  });

  test("guests get their addresses on the bridge; their groups decide who reaches whom; a re-apply changes nothing", async () => {
    const stages = renderLab(lab(true));
    expect(stages.filter((s) => s.id.startsWith("guest/")).map((s) => [s.id, s.runOn])).toEqual([
      ["guest/web1", { kind: "host", host: "h1" }], ["guest/db1", { kind: "host", host: "h1" }], ["guest/other", { kind: "host", host: "h1" }],
    ]);
    for (const s of stages) apply(s);
    expect(labNamespaces()).toEqual([gns("db1"), gns("other"), gns("web1"), `${p}-rt.shop-app`].sort());
    const seg = lab(true).segments[0];
    const db1 = lab(true).guests.find((g) => g.name === "db1")!;
    // The host end of db1's NIC is on the tenant bridge of the machine, under the lab's name.
    expect(run("ip", ["-n", machine, "-o", "link", "show", "dev", db1.nics[0].hostDev])).toContain(`master ${seg.bridge}`);
    await startServer(gns("db1"), 3306, "db1");
    // web (a member of web) reaches db:3306; other, on the same bridge and in no group, does not;
    // the same listener answers web1, so the probe works.
    expect(connect(gns("web1"), "10.70.0.21", 3306)).toBe("db1 10.70.0.11");
    expect(connect(gns("other"), "10.70.0.21", 3306, { timeoutMs: 1000 })).toBe("fail");
    expect(connect(gns("web1"), "10.70.0.21", 3306)).toBe("db1 10.70.0.11");
    // Both reach their gateway, the router on the machine.
    expect(tryRun("ip", ["netns", "exec", gns("other"), "ping", "-c", "1", "-W", "2", "10.70.0.1"]).status).toBe(0);
    // Links keep their ifindex (nothing recreated), addresses and routes stay as they were.
    const live = () => ["addr", "route"].map((what) => run("ip", ["-n", gns("web1"), what])).join("") + run("ip", ["-n", machine, "-o", "link"]);
    const before = live();
    for (const s of stages) apply(s);
    expect(live()).toBe(before);
    expect(connect(gns("web1"), "10.70.0.21", 3306)).toBe("db1 10.70.0.11");
  }, 120_000);

  test("a guest taken out of the code goes with the converge stage; the owner's teardown removes the rest", () => {
    const smaller = renderLab(lab(false));
    for (const s of smaller) apply(s);
    expect(labNamespaces()).toEqual([gns("db1"), gns("web1"), `${p}-rt.shop-app`].sort());
    expect(connect(gns("web1"), "10.70.0.21", 3306)).toBe("db1 10.70.0.11");
    stopServers();
    for (const s of [...smaller].reverse()) inMachine(machine, s, "teardown");
    expect(labNamespaces()).toEqual([]);
    expect(machineLinks()).toEqual(["eth0", "eth0peer", "lo"]);
  }, 120_000);
});
