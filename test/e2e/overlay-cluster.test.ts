import { spawnSync } from "child_process";
import * as path from "path";
import { CdktfProject } from "../support/cdktf";
import { liveObjects } from "../support/live-objects";
import { cleanupPrefix, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";

/**
 * The overlay example through the real workflow: `cdktf deploy` on two hosts, "No changes" again,
 * a third host added (only what must change is replaced: no guest of the first two hosts), the
 * `cloudnet flows` and `cloudnet trace` commands on it, then `cdktf destroy` with no daemon,
 * namespace, link or file of the lab left.
 */
const lab = uniquePrefix("v");
const ns = (n: string) => `${lab}-${n}`;
const daemons = () => run("bash", ["-c", `pgrep -f '(ovs-vswitchd|ovsdb-server) .*/${lab}-h[0-9]/' || true`]).split("\n").filter(Boolean);
let project: CdktfProject;

/** The stages Terraform created, replaced or destroyed in a deploy's output ("network_h1", "guest_b1"...). */
function touched(output: string): string[] {
  return [...new Set([...output.matchAll(/terraform_data\.\S*?_Stages_(\S+?)_hook_[0-9A-F]{8}(?: \([^)]*\))?: (?:Creating|Destroying)/g)].map((m) => m[1]))].sort();
}

describe("an overlay cluster: cdktf deploy / deploy / add a host / destroy (e2e)", () => {
  beforeAll(() => {
    requireRoot();
    project = new CdktfProject(`${__dirname}/fixtures/overlay-app.ts`, { CLOUDNET_TEST_LAB: lab, CLOUDNET_TEST_HOSTS: "2" });
  });
  afterAll(() => {
    stopServers();
    project?.destroy();
    cleanupPrefix(lab);
    project?.remove();
  });

  test("deploy on two hosts: each guest reaches its own tenant's guest on the other host, answered by it", async () => {
    const r = project.deploy();
    expect(r.output).toContain("Apply complete!");
    expect(r.status).toBe(0);
    for (const g of ["b1", "b2", "r1", "r2"]) await startServer(ns(g), 8080, g);
    expect(connect(ns("b1"), "10.0.0.12", 8080).split(" ")[0]).toBe("b2");
    expect(connect(ns("r1"), "10.0.0.12", 8080).split(" ")[0]).toBe("r2");
    expect(daemons()).toHaveLength(4);
  }, 300_000);

  test("a second deploy reports no changes", () => {
    const r = project.deploy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("No changes.");
  }, 300_000);

  test("adding a third host replaces the first two hosts' networks (a tunnel to it) and no guest of theirs", async () => {
    project.set("CLOUDNET_TEST_HOSTS", "3");
    const r = project.deploy();
    expect(r.status).toBe(0);
    const changed = touched(r.output);
    expect(changed).toEqual(expect.arrayContaining(["host_h3", "guest_b3", "guest_r3", "network_h1", "network_h2", "network_h3"]));
    expect(changed.filter((s) => /^guest_[br][12]$/.test(s))).toEqual([]);
    for (const g of ["b3", "r3"]) await startServer(ns(g), 8080, g);
    expect(connect(ns("b1"), "10.0.0.13", 8080).split(" ")[0]).toBe("b3");
    expect(connect(ns("r2"), "10.0.0.13", 8080).split(" ")[0]).toBe("r3");
    expect(daemons()).toHaveLength(6);
  }, 300_000);

  test("cloudnet flows and cloudnet trace read the deployed lab: b1's SYN to b3 is delivered on h3 to blue's port; an address nobody has is refused", () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(__dirname, "../../bin/cloudnet.js"), ...args], { encoding: "utf8" });
    const trace = cli("trace", lab, "b1", "b3", "--tcp", "8080");
    expect(trace.status).toBe(0);
    expect(trace.stdout).toContain("== on h3, from the tunnel");
    expect(trace.stdout.trim().split("\n").pop()).toMatch(/^Delivered on h3 to \S+, the port of network blue-app's Linux bridge \S+, where security groups apply/);
    const flows = cli("flows", lab, "h3", "--stats");
    expect(flows.status).toBe(0);
    expect(flows.stdout).toMatch(/^ {2}table 22: outbound flood: /m);
    const refused = cli("trace", lab, "b1", "10.0.0.99");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("cloudnet: nothing on network blue-app has 10.0.0.99: b1's ARP for it would go unanswered.");
  });

  test("destroy leaves no daemon, namespace, link or file of the lab", () => {
    stopServers();
    expect(daemons()).toHaveLength(6);
    const r = project.destroy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("Destroy complete!");
    expect(liveObjects(lab, lab)).toEqual([]);
    expect(daemons()).toEqual([]);
  }, 300_000);
});
