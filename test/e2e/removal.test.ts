import * as path from "path";
import { CdktfProject } from "../support/cdktf";
import { filesUnder, liveObjects } from "../support/live-objects";
import { cleanupPrefix, tryRun, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { ConvergeVariant } from "../kernel/fixtures/converge-lab";

/**
 * Removal through the real workflow: `cdktf deploy` of a lab, then of the same lab without a guest,
 * its external and its only security group. Terraform drops those stages without running their
 * destroy-time step; convergence removes what they had. `cloudnet verify` agrees, and `cdktf destroy`
 * leaves nothing of the lab on the machine.
 */
const lab = uniquePrefix("r");
const ns = (n: string) => `${lab}-${n}`;
const CLI = path.join(__dirname, "..", "..", "bin", "cloudnet.js");
const full: ConvergeVariant = { guests: { g1: "h1", g2: "h2", g3: "h2" }, external: true, webGroup: ["g2", "g3"] };
const less: ConvergeVariant = { guests: { g1: "h1", g2: "h2" } };
let project: CdktfProject;

describe("removal by convergence: cdktf deploy / deploy smaller / destroy (e2e)", () => {
  beforeAll(() => {
    requireRoot();
    project = new CdktfProject(`${__dirname}/fixtures/converge-app.ts`, { CLOUDNET_TEST_LAB: lab, CLOUDNET_TEST_VARIANT: JSON.stringify(full) });
  });
  afterAll(() => {
    stopServers();
    project?.destroy();
    cleanupPrefix(lab);
    project?.remove();
  });

  test("the full lab deploys, g2 is filtered by its group, verify says in sync", async () => {
    const r = project.deploy();
    expect(r.output).toContain("Apply complete!");
    expect(r.status).toBe(0);
    await startServer(ns("g2"), 8080, "g2");
    await startServer(ns("g2"), 9000, "g2-9000");
    expect(connect(ns("g1"), "10.0.0.12", 8080)).toBe("g2 10.0.0.11");
    expect(connect(ns("g1"), "10.0.0.12", 9000, { timeoutMs: 800 })).toBe("fail");
    const v = tryRun("node", [CLI, "verify", lab]);
    expect(v.stdout).toContain(`lab ${lab}: in sync`);
    expect(v.status).toBe(0);
  }, 300_000);

  test("deployed without g3, the external and the group: all they had is gone and g2 is no longer filtered", () => {
    project.set("CLOUDNET_TEST_VARIANT", JSON.stringify(less));
    const r = project.deploy();
    expect(r.status).toBe(0);
    const live = liveObjects(lab, lab);
    expect(live.filter((o) => o.startsWith("netns ")).sort()).toEqual(
      ["fabric", "g1", "g2", "h1", "h2", "h3", "rt.acme-app.h1"].map((n) => `netns ${ns(n)}`).sort());
    // Of the lab's rules on h2 only the host guard is left: no group's chain, set or table.
    const guard = ["FWD", "IN", "ZONE"].map((c) => `CN-${lab}-${c}`);
    const rulesOnH2 = live.filter((o) => /^(chain|hook|ipset|nft) /.test(o) && o.includes(ns("h2")));
    expect(rulesOnH2.filter((o) => !guard.some((c) => o.endsWith(` ${c}`) || o.endsWith(` -j ${c}`)))).toEqual([]);
    expect(rulesOnH2).toHaveLength(12);
    expect(connect(ns("g1"), "10.0.0.12", 9000)).toBe("g2-9000 10.0.0.11");
    const v = tryRun("node", [CLI, "verify", lab]);
    expect(v.stdout).toContain(`lab ${lab}: in sync`);
    expect(v.status).toBe(0);
  }, 300_000);

  test("destroy leaves no namespace, link, chain, set, table, file or directory of the lab", () => {
    stopServers();
    const r = project.destroy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("Destroy complete!");
    expect(liveObjects(lab, lab)).toEqual([]);
    expect(filesUnder("/run/cloudnet").filter((f) => f.includes(lab))).toEqual([]);
    const v = tryRun("node", [CLI, "verify", lab]);
    expect(v.status).toBe(2);
  }, 300_000);
});
