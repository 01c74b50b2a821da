import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Backend, Lab, Segmentation } from "../../lib";
import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { applyAll, runStage } from "../support/apply";
import { framesSeen } from "../support/capture";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";

/**
 * Local VLANs are numbered per host by VNI, so a network that comes to a host with a lower VNI moves
 * the others' tags there. While the old flows are in, a moved port sits on another network's old
 * tag: green's frames from the tunnels (old table 4: green's VNI to tag 2) reach red's port, now on
 * tag 2 (one way: the other host's source check stops red's answers). The network stage parks each
 * moved port (link down) until the new flows are in. Shown by failing the stage at the integration
 * bridge's bundle, after every port was re-tagged: red and green are then cut off on h3 (fail
 * closed), none of g1's frames reaches r3 (without the parking, some did), and a full apply
 * restores both, never joined.
 */
const p = uniquePrefix("r");

/** h1 and h3; red (r1, r3) and green (g1, g3) on both, one subnet; with `blue3`, blue (lowest VNI) comes to h3 too. */
function lab(blue3: boolean): ResolvedLab {
  const l = new Lab(new TerraformStack(new App(), "kernel"), p, { backend: Backend.emulated() });
  const [h1, h3] = ["h1", "h3"].map((h) => l.addHost(h));
  const cluster = l.addOverlayCluster("sdn", { hosts: [h1, h3] });
  const net = (tenant: string, vni: number) => l.addTenant(tenant).addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vxlan({ vni }) });
  const [blue, red, green] = [net("blue", 1000), net("red", 1001), net("green", 1002)];
  l.addGuest("b1", { host: h1, nics: [{ segment: blue, address: "10.0.0.11" }] });
  if (blue3) l.addGuest("b3", { host: h3, nics: [{ segment: blue, address: "10.0.0.31" }] });
  l.addGuest("r1", { host: h1, nics: [{ segment: red, address: "10.0.0.12" }] });
  l.addGuest("r3", { host: h3, nics: [{ segment: red, address: "10.0.0.13" }] });
  l.addGuest("g1", { host: h1, nics: [{ segment: green, address: "10.0.0.22" }] });
  l.addGuest("g3", { host: h3, nics: [{ segment: green, address: "10.0.0.23" }] });
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

const ns = (node: string) => `${p}-${node}`;
const pings = (from: string, to: string) => nsExec(ns(from), "ping", ["-c", "2", "-i", "0.2", "-W", "1", to]).status === 0;


/** Frames with `sender`'s MAC as their source that reach `at`'s eth0 while `during` runs. */
function framesFrom(at: string, sender: string, during: () => unknown): Promise<number> {
  return framesSeen(ns(at), "eth0", ["ether", "src", resolvedMacs.get(sender)!], during);
}
const resolvedMacs = new Map<string, string>();

describe("overlay clusters: a network's local VLAN moves without joining two networks (kernel)", () => {
  const before = lab(false);
  const after = lab(true);
  const tag = (l: ResolvedLab, net: string) => l.segments.find((s) => s.name === net)!.localVlans!.h3;

  beforeAll(() => {
    requireRoot();
    for (const g of after.guests) resolvedMacs.set(g.name, g.nics[0].mac.toString());
    applyAll(before);
  }, 120_000);
  afterAll(() => cleanupPrefix(p));

  test("red's and green's tags on h3 move when blue comes; a network stage that fails at its flows leaves the moved ports parked, and green never reaches red", async () => {
    expect([tag(before, "red-app"), tag(before, "green-app")]).toEqual([1, 2]);
    expect([tag(after, "blue-app"), tag(after, "red-app"), tag(after, "green-app")]).toEqual([1, 2, 3]);
    // The probes work: red reaches red across the tunnel; green does not reach red's address.
    expect(pings("r1", "10.0.0.13")).toBe(true);
    expect(pings("g1", "10.0.0.13")).toBe(false);

    // h3's new network stage with every flow bundle failing: the ports are re-tagged, the old flows stay.
    const shim = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-shim-"));
    const real = process.env.PATH!;
    // The integration bridge's bundle is the first after the networks' lines (the provider bridge's comes before them).
    const target = `${after.hosts.find((h) => h.name === "h3")!.ovsRunDir}/${after.clusters[0].integrationBridge}.mgmt`;
    fs.writeFileSync(path.join(shim, "ovs-ofctl"), `#!/bin/bash\n[[ " $* " == *" replace-flows unix:${target} "* ]] && { echo "shim: replace-flows refused" >&2; exit 1; }\nPATH='${real}' exec ovs-ofctl "$@"\n`, { mode: 0o755 });
    const network = renderLab(after).find((s) => s.id === "network/h3")!;
    process.env.PATH = `${shim}:${real}`;
    let failed: { status: number; output: string };
    try {
      failed = runStage(after, network, "apply");
    } finally {
      process.env.PATH = real;
      fs.rmSync(shim, { recursive: true, force: true });
    }
    expect(failed.status).not.toBe(0);
    expect(failed.output).toContain("shim: replace-flows refused");
    // It failed after the networks' lines: the ports are on their new tags.
    const tagNow = (net: string) => run("ovs-vsctl", [`--db=unix:${after.hosts.find((h) => h.name === "h3")!.ovsRunDir}/db.sock`, "get", "port", after.segments.find((s) => s.name === net)!.ovsPort!, "tag"]).trim();
    expect([tagNow("red-app"), tagNow("green-app")]).toEqual(["2", "3"]);
    const portState = (net: string) => nsExec(ns("h3"), "ip", ["-br", "link", "show", "dev", after.segments.find((s) => s.name === net)!.ovsPort!]).stdout.split(/\s+/)[1];
    expect([portState("red-app"), portState("green-app")]).toEqual(["DOWN", "DOWN"]);
    // Green's frames still map to tag 2 on h3 (old flows), where red's port now is: none of g1's
    // frames (its ARP requests while it pings r3's address) arrives at r3.
    expect(await framesFrom("r3", "g1", () => pings("g1", "10.0.0.13"))).toBe(0);
    expect(pings("g1", "10.0.0.23")).toBe(false);

    // A full apply puts the flows in and the ports back: red reaches red, green green, never each other.
    applyAll(after);
    expect([portState("red-app"), portState("green-app")]).toEqual(["UP", "UP"]);
    expect(pings("r1", "10.0.0.13")).toBe(true);
    expect(pings("g1", "10.0.0.23")).toBe(true);
    expect(pings("g1", "10.0.0.13")).toBe(false);
    expect(pings("b1", "10.0.0.31")).toBe(true);
    // The capture's control: r1's frames do arrive at r3.
    expect(await framesFrom("r3", "r1", () => pings("r1", "10.0.0.13"))).toBeGreaterThan(0);
  }, 120_000);
});
