import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CdktfProject } from "../support/cdktf";
import { canPing, cleanupPrefix, netnsWithPrefix, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";

/**
 * The package as a team gets it: `npm pack` (through scripts/pack.sh), installed offline from the npm
 * cache into a fresh copy of examples/team-repo, whose own snapshot tests then pass, and whose lab
 * (composed from the team's WebTier construct) deploys, answers packets, re-plans no change and
 * destroys to nothing.
 */
const REPO = path.resolve(__dirname, "..", "..");
const prefix = uniquePrefix("k");
const ns = (node: string) => `${prefix}-${node}`;
let work: string;
let app: string;
let project: CdktfProject;

const CDKTF = path.join(REPO, "node_modules", ".bin", "cdktf");

function sh(cmd: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): { status: number; output: string } {
  const r = spawnSync(cmd, args as string[], { cwd, encoding: "utf8", timeout: 300_000, env: { ...process.env, CI: "true", NO_COLOR: "1", ...env } });
  return { status: r.status ?? 1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("the packed library in a fresh team project (e2e)", () => {
  beforeAll(() => {
    requireRoot();
    // The project keeps its layout relative to the tarball: <work>/examples/team-repo and <work>/.pack.
    work = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-package-"));
    app = path.join(work, "examples", "team-repo");
    fs.cpSync(path.join(REPO, "examples", "team-repo"), app, { recursive: true, filter: (src) => !/node_modules|cdktf\.out|\.cloudnet/.test(src) });
  });
  afterAll(() => {
    stopServers();
    project?.destroy();
    cleanupPrefix(prefix);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("npm pack ships only the built library, its types, the libvirt bindings and the CLI", () => {
    const packed = sh("bash", ["scripts/pack.sh"], REPO);
    expect(packed.status).toBe(0);
    fs.mkdirSync(path.join(work, ".pack"));
    fs.renameSync(path.join(REPO, ".pack", "cdktf-cloudnet.tgz"), path.join(work, ".pack", "cdktf-cloudnet.tgz"));
    const files = run("tar", ["-tzf", path.join(work, ".pack", "cdktf-cloudnet.tgz")]).split("\n").filter(Boolean);
    const outside = files.filter((f) => !/^package\/(dist\/(lib|\.gen)\/.*\.(js|d\.ts)|bin\/cloudnet\.js|README\.md|package\.json)$/.test(f));
    expect(outside).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["package/dist/lib/index.js", "package/dist/lib/index.d.ts", "package/dist/.gen/providers/libvirt/domain/index.js"]));
    // prepack built dist/ for the tarball, postpack removed it: the repository's own runs stay on the sources.
    expect(fs.existsSync(path.join(REPO, "dist"))).toBe(false);
  }, 300_000);

  test("it installs offline from the npm cache, with cdktf and constructs as the project's own (peer) copies", () => {
    const installed = sh("npm", ["ci", "--offline", "--no-audit", "--no-fund"], app);
    expect(installed.output).not.toContain("ERR");
    expect(installed.status).toBe(0);
    const lib = path.join(app, "node_modules", "cdktf-cloudnet");
    expect(fs.existsSync(path.join(lib, "node_modules", "cdktf"))).toBe(false);
    expect(fs.existsSync(path.join(lib, "node_modules", "constructs"))).toBe(false);
  }, 300_000);

  test("the team's snapshot tests pass against the packed library", () => {
    const tested = sh("npx", ["jest", "--ci"], app);
    expect(tested.output).toMatch(/Tests:\s+3 passed, 3 total/);
    expect(tested.status).toBe(0);
    // The installed CLI runs the compiled code (the package ships no sources).
    const list = sh(path.join(app, "node_modules", ".bin", "cloudnet"), ["--help"], app);
    expect(list.status).toBe(0);
    expect(list.output).toContain("verify");
  }, 300_000);

  test("the team's lab deploys: its guests answer where their group allows, and only there", async () => {
    project = CdktfProject.inDir(app, { LAB_PREFIX: prefix });
    // Through the installed CLI: one line per stage and a summary; the whole Terraform output in a log file.
    const r = sh(path.join(app, "node_modules", ".bin", "cloudnet"), ["deploy", "."], app, { LAB_PREFIX: prefix, CDKTF_BIN: CDKTF });
    expect(r.status).toBe(0);
    const lines = r.output.trim().split("\n");
    expect(lines.filter((l) => /^  applied  \S+ +\S+s$/.test(l)).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual([
      "converge", "converge/h1", "converge/h2", "fabric", "firewall/h1", "firewall/h2", "guest/web1", "guest/web2", "helpers",
      "host/h1", "host/h2", "inventory", "network/h1", "network/h2", "owner/h1", "owner/h2",
    ]);
    const summary = /^cloudnet: deploy done in [\d.]+ s, 16 stages applied.*; full log: (\S+)$/.exec(lines[lines.length - 1]);
    expect(summary).not.toBeNull();
    const log = fs.readFileSync(path.resolve(app, summary![1]), "utf8");
    expect(log).toContain("Apply complete!");
    // The plan never shows the scripts: the apply scripts are in provisioners, which plans do not print, and so are the teardowns.
    expect(log).not.toContain("CLOUDNET_SCRIPT_0 = <<-EOT");
    expect(log).not.toContain("set -Eeuo pipefail");
    expect(netnsWithPrefix(prefix)).toEqual(expect.arrayContaining([ns("web1"), ns("web2"), ns("h1"), ns("h2")]));
    // web1 (h1) and web2 (h2) share the WebTier network over VXLAN; the group allows ping among its members.
    expect(canPing(ns("web1"), "10.40.0.11")).toBe(true);
    await startServer(ns("web2"), 80, "web2-80");
    await startServer(ns("web2"), 8081, "web2-8081");
    expect(connect(ns("web1"), "10.40.0.11", 80)).toBe("web2-80 10.40.0.10");
    expect(connect(ns("web1"), "10.40.0.11", 8081, { timeoutMs: 1000 })).toBe("fail");
    // Control: the 8081 listener answers; only the group keeps web1 out.
    expect(connect(ns("web2"), "127.0.0.1", 8081)).toBe("web2-8081 127.0.0.1");
  }, 300_000);

  test("a second deploy plans no change, and destroy leaves nothing of the lab", () => {
    const again = project.deploy();
    expect(again.output).toContain("No changes.");
    expect(again.status).toBe(0);
    stopServers();
    const gone = project.destroy();
    expect(gone.output).toContain("Destroy complete!");
    expect(gone.status).toBe(0);
    expect(netnsWithPrefix(prefix)).toEqual([]);
    expect(run("ip", ["-br", "link"]).split("\n").filter((l) => l.startsWith(prefix))).toEqual([]);
    expect(run("iptables-save", []).split("\n").filter((l) => l.includes(prefix))).toEqual([]);
  }, 300_000);
});
