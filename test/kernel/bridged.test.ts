import { App, TerraformStack } from "cdktf";
import { Backend, Lab, NetworkMode } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { runStage } from "../support/apply";
import { canPing, cleanupPrefix, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";

/**
 * Bridged mode on emulated hosts: each host's LAN port (eth1) joins the network's bridge, so guests
 * sit on the "physical" segment (the fabric) next to the hosts and the outside world, without an
 * overlay.
 */
const p = uniquePrefix("d");
function bridgedLab(): ResolvedLab {
  const lab = new Lab(new TerraformStack(new App(), "kernel"), p, { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const h2 = lab.addHost("h2");
  lab.addExternal("office");
  const lan = lab.addSegment("lan", { cidr: "198.18.0.0/24", mode: NetworkMode.bridged() });
  lab.addGuest("v1", { host: h1, nics: [{ segment: lan, address: "198.18.0.51" }] });
  lab.addGuest("v2", { host: h2, nics: [{ segment: lan, address: "198.18.0.52" }] });
  const r = lab.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

describe("bridged networks (kernel)", () => {
  const lab = bridgedLab();
  const stages = renderLab(lab);
  beforeAll(() => {
    requireRoot();
    for (const s of stages) {
      const r = runStage(lab, s, "apply");
      if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
    }
  });
  afterAll(() => cleanupPrefix(p));

  test("the hosts' LAN ports join the bridge, and no overlay device exists for it", () => {
    const seg = lab.segments.find((s) => s.name === "lan")!;
    expect(seg.overlayDev).toBeUndefined();
    expect(run("ip", ["-n", `${p}-h1`, "-br", "link", "show", "master", seg.bridge])).toContain("eth1@");
  });

  test("bridged guests reach each other, the hosts and the outside world on the physical segment", () => {
    expect(canPing(`${p}-v1`, "198.18.0.52")).toBe(true);
    expect(canPing(`${p}-v1`, "198.18.0.2")).toBe(true);
    expect(canPing(`${p}-office`, "198.18.0.51")).toBe(true);
  });

  test("the host's owner removes the bridge on destroy and releases the LAN port instead of deleting it", () => {
    const owner = stages.find((s) => s.id === "owner/h1")!;
    expect(runStage(lab, owner, "teardown").status).toBe(0);
    expect(run("ip", ["-n", `${p}-h1`, "-br", "link"])).not.toContain(lab.segments.find((s) => s.name === "lan")!.bridge);
    expect(run("ip", ["-n", `${p}-h1`, "-br", "link", "show", "dev", "eth1"])).toMatch(/^eth1@/);
    expect(run("ip", ["-n", `${p}-h1`, "-d", "link", "show", "dev", "eth1"])).not.toContain("master");
  });
});
