import { App, TerraformStack } from "cdktf";
import { Backend, Lab, NetworkMode, Target } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { cleanupPrefix, deleteNetns, run, tryRun, uniquePrefix } from "../support/netns";
import { createMachine, inMachine } from "../support/machine";
import { requireRoot } from "../support/root";

/**
 * On a real host the lab removes only links it recorded making: another tool's link whose name
 * happens to match the lab's pattern (Docker's `br-<id>` for a lab with prefix `b`) survives the
 * converge stage and the owner's teardown, while the lab's own links go when no longer declared.
 * The stages run inside a namespace that plays the host (Target.local), as the local e2e does.
 */
const machine = `${uniquePrefix("m")}-machine`;

function lab(withSide: boolean): ResolvedLab {
  const l = new Lab(new TerraformStack(new App(), "kernel"), "b", { backend: Backend.hosts() });
  l.addHost("h1", { target: Target.local(), underlayAddress: "192.0.2.1" });
  const t = l.addTenant("t");
  t.addNetwork("web", { cidr: "10.60.0.0/24", mode: NetworkMode.nat(), hosts: ["h1"] });
  if (withSide) t.addNetwork("side", { cidr: "10.61.0.0/24", hosts: ["h1"] });
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}


const links = () => run("ip", ["-n", machine, "-o", "link", "show"]).split("\n").map((l) => l.split(": ")[1]?.split("@")[0]).filter(Boolean).sort();

describe("real host: only recorded links are the lab's (kernel)", () => {
  beforeAll(() => {
    requireRoot();
    createMachine(machine);
    // Docker's bridge for a user network: its name matches `^b[a-z]-`.
    run("ip", ["-n", machine, "link", "add", "br-3f2a9c1d7e4b", "type", "bridge"]);
  });
  afterAll(() => {
    for (const ns of tryRun("ip", ["netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith("b-rt."))) deleteNetns(ns);
    deleteNetns(machine);
    cleanupPrefix("b");
    tryRun("rm", ["-rf", "/run/cloudnet/state/host/links@b", "/run/cloudnet/state/host/routes@b"]);
  });

  test("converge removes the lab's undeclared links and keeps the foreign one; the owner's teardown too", () => {
    const full = renderLab(lab(true));
    for (const s of full) inMachine(machine, s, "apply");
    const side = lab(true).segments.find((s) => s.name === "t-side")!;
    expect(links()).toEqual(expect.arrayContaining([side.bridge, side.overlayDev!, "br-3f2a9c1d7e4b"]));

    // The side network is taken out: its links go, Docker's stays.
    const smaller = renderLab(lab(false));
    inMachine(machine, smaller.find((s) => s.id === "network/h1")!, "apply");
    inMachine(machine, smaller.find((s) => s.id === "converge/h1")!, "apply");
    expect(links()).not.toContain(side.bridge);
    expect(links()).not.toContain(side.overlayDev);
    expect(links()).toContain("br-3f2a9c1d7e4b");

    // Destroy: the owner removes the rest of the lab, and still not Docker's bridge.
    inMachine(machine, smaller.find((s) => s.id === "owner/h1")!, "teardown");
    expect(links()).toEqual(["br-3f2a9c1d7e4b", "eth0", "eth0peer", "lo"]);
  });
});
