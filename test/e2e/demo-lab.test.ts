import * as fs from "fs";
import { CdktfProject } from "../support/cdktf";
import { filesUnder } from "../support/live-objects";
import { canPing, cleanupPrefix, netnsWithPrefix, nsExec, run, tryRun, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";

/**
 * The demo lab through the real workflow: `cdktf deploy` into emulated hosts, guests ping across
 * hosts, a second deploy plans no change, and `cdktf destroy` leaves nothing of the lab behind.
 */
const lab = uniquePrefix("e");
let project: CdktfProject;

/** Kernel ids (`net:[inode]`) of the lab's namespaces, to find processes that outlive them. */
let labNetnsIds: string[] = [];

function processesInLabNamespaces(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (labNetnsIds.includes(fs.readlinkSync(`/proc/${pid}/ns/net`))) out.push(`process ${pid}`);
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Lab-owned things left on the machine: namespaces, processes in them, links, rules, files. */
function leftovers(): string[] {
  const found = netnsWithPrefix(lab).map((ns) => `netns ${ns}`);
  found.push(...processesInLabNamespaces());
  found.push(...run("ip", ["-br", "link"]).split("\n").filter((l) => l.startsWith(lab)).map((l) => `link ${l}`));
  if (fs.existsSync(`/run/cloudnet/labs/${lab}.json`)) found.push("inventory file");
  found.push(...filesUnder("/run/cloudnet").filter((f) => f.includes(lab)).map((f) => `file ${f}`));
  const rules = tryRun("iptables-save", []).stdout.split("\n").filter((l) => l.includes(lab));
  found.push(...rules.map((r) => `rule ${r}`));
  return found;
}

describe("demo lab: cdktf deploy / deploy / destroy (e2e)", () => {
  const rootLinksBefore = run("ip", ["-br", "link"]);
  beforeAll(() => {
    requireRoot();
    project = new CdktfProject(`${__dirname}/fixtures/demo-app.ts`, { CLOUDNET_TEST_LAB: lab });
  });
  afterAll(() => {
    project?.destroy();
    cleanupPrefix(lab);
    project?.remove();
  });

  test("deploy builds the lab: guests reach their tenant across hosts, the internet through NAT, and no other tenant", () => {
    const r = project.deploy();
    expect(r.output).toContain("Apply complete!");
    expect(r.status).toBe(0);
    expect(netnsWithPrefix(lab).sort()).toEqual(
      ["db", "fabric", "h1", "h2", "internet", "red1", "rt.blue-app.h1", "web"].map((n) => `${lab}-${n}`).sort(),
    );
    expect(canPing(`${lab}-web`, "10.10.0.12")).toBe(true);
    expect(canPing(`${lab}-db`, "10.10.0.11")).toBe(true);
    expect(canPing(`${lab}-web`, "198.18.0.254")).toBe(true);
    // The floating IP answers from web itself, behind the router (TTL 62), not from h1 (which holds the address, TTL 64).
    expect(nsExec(`${lab}-internet`, "ping", ["-c", "1", "-W", "2", "198.18.0.100"]).stdout).toMatch(/ttl=62 /);
    // red1 (10.10.0.11 in red) cannot reach db, while the same ping from 10.10.0.11 in blue (web) does.
    expect(canPing(`${lab}-web`, "10.10.0.12")).toBe(true);
    expect(canPing(`${lab}-red1`, "10.10.0.12")).toBe(false);
    labNetnsIds = netnsWithPrefix(lab).map((ns) => `net:[${fs.statSync(`/run/netns/${ns}`).ino}]`);
  }, 300_000);

  test("the CLI lists the lab and runs commands in its nodes", () => {
    const list = run("node", [`${__dirname}/../../bin/cloudnet.js`, "list", lab]);
    expect(list).toMatch(/web\s+guest\s+h1\s+\S+-web\s+10\.10\.0\.11\/24/);
    expect(list).toMatch(/router\.blue-app\s+router\s+h1\s+\S+-rt\.blue-app\.h1\s+10\.10\.0\.1\/24/);
    const exec = tryRun("node", [`${__dirname}/../../bin/cloudnet.js`, "exec", lab, "web", "--", "ping", "-c", "1", "-W", "2", "10.10.0.12"]);
    expect(exec.status).toBe(0);
  }, 60_000);

  test("a second deploy reports no changes", () => {
    const r = project.deploy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("No changes.");
  }, 300_000);

  test("destroy leaves no namespace, link, process, rule or file of the lab", () => {
    const r = project.destroy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("Destroy complete!");
    expect(leftovers()).toEqual([]);
    expect(run("ip", ["-br", "link"])).toBe(rootLinksBefore);
  }, 300_000);
});
