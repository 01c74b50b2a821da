import { Testing } from "cdktf";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CdktfProject } from "../support/cdktf";
import { CDKTN_HARNESS, NODE22_BIN, requireCdktnHarness } from "../support/cdktn";
import { liveObjects } from "../support/live-objects";
import { canPing, cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { realLab } from "../synth/support/real-lab";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mentionsCdktf } = require("../../flavours/cdktn/build.js") as { mentionsCdktf: (text: string) => boolean };

/**
 * The library on CDK Terrain as its users get it: `scripts/pack.sh cdktn` builds cdktn-cloudnet, which
 * installs offline into a fresh cdktn project (cdktn, cdktn-cli, constructs; no cdktf anywhere up the
 * tree, so a leftover import of cdktf fails at once). Its demo synthesizes the same Terraform as the
 * cdktf flavour's, apart from the metadata naming the platform, and deploys, re-plans no change and
 * destroys to nothing with cdktn-cli under Node 22, through the package's own CLI.
 */
const REPO = path.resolve(__dirname, "..", "..");
const lab = uniquePrefix("n");
let work: string;
let project: CdktfProject;
let deployed = false;

function sh(cmd: string, args: readonly string[], cwd: string): { status: number; output: string } {
  const r = spawnSync(cmd, args as string[], {
    cwd, encoding: "utf8", timeout: 300_000,
    env: { ...process.env, PATH: `${NODE22_BIN}:${process.env.PATH}`, CI: "true", NO_COLOR: "1", CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: path.join(cwd, "empty.tfrc"), CLOUDNET_TEST_LAB: lab },
  });
  return { status: r.status ?? 1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The package's own CLI (bin/cloudnet.js of cdktn-cloudnet) under Node 22. */
const cloudnet = (...args: string[]) => sh(path.join(NODE22_BIN, "node"), [path.join(work, "node_modules", ".bin", "cloudnet"), ...args], work);

/** Every file below `dir`. */
function filesIn(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Where two JSON documents differ, as paths ("//.metadata.version"). */
function differences(a: unknown, b: unknown, at = ""): string[] {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return a === b ? [] : [at];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
}

describe("the cdktn flavour: packed, installed in a cdktn project, deployed with cdktn-cli (e2e)", () => {
  const rootLinksBefore = run("ip", ["-br", "link"]);
  beforeAll(() => {
    requireRoot();
    requireCdktnHarness();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-cdktn-"));
    fs.writeFileSync(path.join(work, "empty.tfrc"), "");
  });
  afterAll(() => {
    if (deployed) project?.destroy();
    cleanupPrefix(lab);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("scripts/pack.sh cdktn ships the built library with cdktn imports, the Docker bindings it uses, and the CLI", () => {
    const packed = sh("bash", ["scripts/pack.sh", "cdktn"], REPO);
    expect(packed.status).toBe(0);
    fs.renameSync(path.join(REPO, ".pack", "cdktn-cloudnet.tgz"), path.join(work, "cdktn-cloudnet.tgz"));
    const files = run("tar", ["-tzf", path.join(work, "cdktn-cloudnet.tgz")]).split("\n").filter(Boolean);
    const outside = files.filter((f) => !/^package\/(dist\/(lib|\.gen|vendor\/provider-docker\/lib)\/.*\.(js|d\.ts)|dist\/vendor\/provider-docker\/LICENSE|bin\/cloudnet\.js|README\.md|package\.json)$/.test(f));
    expect(outside).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["package/dist/lib/index.js", "package/dist/vendor/provider-docker/lib/container/index.js"]));
    const manifest = JSON.parse(run("tar", ["-xzOf", path.join(work, "cdktn-cloudnet.tgz"), "package/package.json"]));
    expect(manifest.name).toBe("cdktn-cloudnet");
    expect(manifest.peerDependencies).toEqual({ cdktn: "^0.24.0", constructs: ">=10.6.0 <10.8.0" });
    expect(Object.keys(manifest.dependencies)).not.toContain("@cdktf/provider-docker");
    // The build's intermediate files are gone (it never touches dist/, which the cdktf pack may be using).
    expect(fs.existsSync(path.join(REPO, ".pack", "cdktn"))).toBe(false);
    expect(fs.existsSync(path.join(REPO, ".pack", "cdktn-build"))).toBe(false);
  }, 300_000);

  test("it installs offline next to cdktn, cdktn-cli and constructs, and nothing in it imports cdktf", () => {
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(CDKTN_HARNESS, f), path.join(work, f));
    // On failure the whole result shows, npm's reasons with it.
    expect(sh("npm", ["ci", "--offline", "--no-audit", "--no-fund"], work)).toMatchObject({ status: 0 });
    const added = sh("npm", ["install", "--offline", "--no-save", "--no-audit", "--no-fund", "./cdktn-cloudnet.tgz"], work);
    expect(added).toMatchObject({ status: 0 });
    expect(added.output).not.toContain("ERR");
    expect(fs.existsSync(path.join(work, "node_modules", "cdktf"))).toBe(false);
    // The build's own check, over what was installed: no string names cdktf in any form.
    const naming = filesIn(path.join(work, "node_modules", "cdktn-cloudnet")).filter((f) => /\.(js|ts)$/.test(f) && mentionsCdktf(fs.readFileSync(f, "utf8")));
    expect(naming).toEqual([]);
    // The probe finds cdktf where it is named: in the original of a vendored module.
    expect(mentionsCdktf(fs.readFileSync(path.join(REPO, "node_modules", "@cdktf", "provider-docker", "lib", "image", "index.js"), "utf8"))).toBe(true);
    // Nothing above the project has node_modules either: Node can only find what the project installed.
    for (let d = path.dirname(work); d !== "/"; d = path.dirname(d)) expect(fs.existsSync(path.join(d, "node_modules"))).toBe(false);
    expect(sh("node", ["--version"], work).output).toMatch(/^v22\./);
  }, 300_000);

  test("the demo synthesizes the same Terraform on cdktn as on cdktf, apart from the platform's version in the metadata", () => {
    // The repository's demo lab, importing the package instead of the sources.
    const labSource = fs.readFileSync(path.join(REPO, "examples", "demo-lab", "lab.ts"), "utf8");
    expect(labSource).toContain(`from "../../lib";`);
    fs.writeFileSync(path.join(work, "lab.ts"), labSource.replace(`from "../../lib";`, `from "cdktn-cloudnet";`));
    fs.writeFileSync(path.join(work, "main.ts"), [
      `import { App, TerraformStack } from "cdktn";`,
      `import { demoLab } from "./lab";`,
      ``,
      `const app = new App();`,
      `demoLab(new TerraformStack(app, "demo"), process.env.CLOUDNET_TEST_LAB ?? "demo");`,
      `app.synth();`,
      ``,
    ].join("\n"));
    fs.writeFileSync(path.join(work, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", types: ["node"], strict: true, esModuleInterop: true, skipLibCheck: true },
      include: ["*.ts"],
    }));
    fs.writeFileSync(path.join(work, "cdktf.json"), JSON.stringify({ language: "typescript", app: "npx ts-node --transpile-only main.ts", sendCrashReports: "false" }));
    project = CdktfProject.inDir(work, { CLOUDNET_TEST_LAB: lab }).useCli(path.join(work, "node_modules", ".bin", "cdktn"), NODE22_BIN);
    const synth = project.cdktf(["synth"]);
    expect(synth.status).toBe(0);
    // The same demo on cdktf from this repository's sources (Node 20), in the same project, so the
    // state path in the backend block is the same too.
    const tsNode = path.join(REPO, "node_modules", ".bin", "ts-node");
    const app = `${tsNode} --transpile-only --project ${path.join(REPO, "tsconfig.json")} ${path.join(REPO, "test", "e2e", "fixtures", "demo-app.ts")}`;
    const reference = CdktfProject.inDir(work, { CLOUDNET_TEST_LAB: lab }).cdktf(["synth", "--app", app, "--output", "cdktf-reference.out"]);
    expect(reference.status).toBe(0);
    const onCdktn = JSON.parse(fs.readFileSync(path.join(work, "cdktf.out", "stacks", "demo", "cdk.tf.json"), "utf8"));
    const onCdktf = JSON.parse(fs.readFileSync(path.join(work, "cdktf-reference.out", "stacks", "demo", "cdk.tf.json"), "utf8"));
    expect(differences(onCdktn, onCdktf)).toEqual(["//.metadata.version"]);
    expect([onCdktn["//"].metadata.version, onCdktf["//"].metadata.version]).toEqual(["0.24.0", "0.21.0"]);
    // Not an empty comparison: the lab is all there.
    expect(Object.keys(onCdktn.resource.terraform_data).length).toBeGreaterThan(10);
  }, 300_000);

  test("VMs and containers on real hosts (the libvirt and vendored Docker bindings) synthesize the same, and the package's types check", () => {
    const labSource = fs.readFileSync(path.join(REPO, "test", "synth", "support", "real-lab.ts"), "utf8");
    expect(labSource).toContain(`from "../../../lib";`);
    fs.writeFileSync(path.join(work, "real-lab.ts"), labSource.replace(`from "../../../lib";`, `from "cdktn-cloudnet";`));
    fs.writeFileSync(path.join(work, "real.ts"), [
      `import { Testing } from "cdktn";`,
      `import { realLab } from "./real-lab";`,
      ``,
      `process.stdout.write(Testing.synthScope((s) => { realLab(s); }));`,
      ``,
    ].join("\n"));
    const onCdktn = sh(path.join(work, "node_modules", ".bin", "ts-node"), ["--transpile-only", "real.ts"], work);
    expect(onCdktn).toMatchObject({ status: 0 });
    const parsed = JSON.parse(onCdktn.output);
    expect(differences(parsed, JSON.parse(Testing.synthScope((s) => { realLab(s); })))).toEqual([]);
    expect(Object.keys(parsed.resource)).toEqual(expect.arrayContaining(["docker_container", "docker_image", "docker_network", "libvirt_domain"]));
    // The package's declarations, the vendored ones included, type-check in a cdktn project (no skipLibCheck).
    const tsc = sh(path.join(work, "node_modules", ".bin", "tsc"), ["--noEmit", "--skipLibCheck", "false", "-p", "."], work);
    expect(tsc).toMatchObject({ status: 0 });
  }, 300_000);

  test("cloudnet deploy runs cdktn deploy: guests reach their tenant across hosts, the internet through NAT, and no other tenant", () => {
    const r = cloudnet("deploy", ".");
    deployed = true;
    expect(r.output).toContain("with cdktn deploy");
    expect(r.status).toBe(0);
    expect(canPing(`${lab}-web`, "10.10.0.12")).toBe(true);
    expect(nsExec(`${lab}-internet`, "ping", ["-c", "1", "-W", "2", "198.18.0.100"]).stdout).toMatch(/ttl=62 /);
    // red1 (10.10.0.11 in red) cannot reach db, while the same ping from 10.10.0.11 in blue (web) does.
    expect(canPing(`${lab}-web`, "10.10.0.12")).toBe(true);
    expect(canPing(`${lab}-red1`, "10.10.0.12")).toBe(false);
    expect(cloudnet("list", lab).output).toMatch(/web\s+guest\s+h1\s+\S+-web\s+10\.10\.0\.11\/24/);
  }, 300_000);

  test("cdktn plan after the deploy plans no change", () => {
    const r = project.cdktf(["plan"]);
    expect(r.status).toBe(0);
    expect(r.output).toContain("No changes.");
  }, 300_000);

  test("cloudnet destroy runs cdktn destroy and leaves nothing of the lab", () => {
    const r = cloudnet("destroy", ".");
    expect(r.status).toBe(0);
    deployed = false;
    expect(liveObjects(lab, lab)).toEqual([]);
    expect(run("ip", ["-br", "link"])).toBe(rootLinksBefore);
  }, 300_000);
});
