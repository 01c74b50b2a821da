import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELPER_LIBRARY, HELPER_LIBRARY_NAME, applyScript, libraryStage, renderLab } from "../../lib/render";
import { runBash } from "./support/bash";
import { demoSpec, hostsLab, resolveOk, sshHost } from "./support/lab-specs";

describe("the helper library stage", () => {
  let dir: string;
  const env = () => ({ CLOUDNET_LIB: path.join(dir, "lib") });
  const file = () => path.join(dir, "lib", `${HELPER_LIBRARY_NAME}.sh`);
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-libstage-")); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const demo = resolveOk(demoSpec());
  const other = resolveOk({ ...demoSpec(), name: "other", prefix: "other" });

  it("writes exactly the library, named by its hash, and an apply script then runs with it", () => {
    const r = runBash(libraryStage(demo).apply, env());
    expect(r.status).toBe(0);
    expect(fs.readFileSync(file(), "utf8")).toBe(HELPER_LIBRARY);
    expect(fs.readdirSync(path.join(dir, "lib")).sort()).toEqual([`${HELPER_LIBRARY_NAME}.holders`, `${HELPER_LIBRARY_NAME}.sh`]);
    const run = runBash(applyScript("t", ["cn_log hello", "echo ran"], []), env());
    expect(run).toMatchObject({ status: 0, stdout: "ran\n" });
    expect(run.stderr).toContain("cloudnet: hello");
  });

  it("an apply script without the library stops before doing anything, saying what is missing and what to do", () => {
    const r = runBash(applyScript("t", ["echo ran"], []), env());
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`the helper library ${file()} is missing; the lab's helpers stage puts it there`);
  });

  it("is shared by labs on one machine: the file stays until the last holder's teardown, which leaves no directory", () => {
    for (const lab of [demo, other]) expect(runBash(libraryStage(lab).apply, env()).status).toBe(0);
    expect(fs.readdirSync(path.join(dir, "lib", `${HELPER_LIBRARY_NAME}.holders`)).sort()).toEqual(["demo", "other"]);
    expect(runBash(libraryStage(demo).teardown, env()).status).toBe(0);
    expect(fs.readFileSync(file(), "utf8")).toBe(HELPER_LIBRARY);
    // Applying again changes nothing; a second teardown of the same holder is harmless.
    expect(runBash(libraryStage(other).apply, env()).status).toBe(0);
    expect(runBash(libraryStage(demo).teardown, env()).status).toBe(0);
    expect(fs.existsSync(file())).toBe(true);
    expect(runBash(libraryStage(other).teardown, env()).status).toBe(0);
    expect(fs.existsSync(path.join(dir, "lib"))).toBe(false);
  });

  // Needs root to hand directories to another user; CI runs the unit tier as root.
  (process.getuid?.() === 0 ? it : it.skip)("refuses a way to the library that another user owns or others may write to, anywhere up the path", () => {
    const lib = path.join(dir, "lib");
    const refused = (libDir: string, what: string) => {
      const r = runBash(libraryStage(demo).apply, { CLOUDNET_LIB: libDir });
      expect({ status: r.status, err: r.stderr.trim() }).toEqual({ status: 1, err: `cloudnet: ${what} belongs to another user or others may write to it: refusing to keep the helper library under it; remove it or fix its owner and mode` });
    };
    fs.mkdirSync(lib);
    fs.chownSync(lib, 65534, 65534);
    refused(lib, lib);
    // Two levels up, and written with a trailing slash: the same.
    fs.chownSync(lib, 0, 0);
    const deep = path.join(lib, "a", "b");
    fs.mkdirSync(path.join(lib, "a"));
    fs.chownSync(path.join(lib, "a"), 65534, 65534);
    refused(`${deep}/`, path.join(lib, "a"));
    expect(fs.existsSync(deep)).toBe(false);
    // Writable by others without the sticky bit.
    fs.chmodSync(lib, 0o777);
    refused(lib, lib);
    expect(fs.existsSync(file())).toBe(false);
    // The same directory, root's and 0755 (or sticky, as /tmp): taken.
    fs.chmodSync(lib, 0o755);
    expect(runBash(libraryStage(demo).apply, env()).status).toBe(0);
    fs.chmodSync(lib, 0o1777);
    expect(runBash(libraryStage(demo).apply, { CLOUDNET_LIB: path.join(lib, "sub") }).status).toBe(0);
  });

  it("makes its directories root's alone whatever the operator's umask", () => {
    const r = runBash(`umask 000\n${libraryStage(demo).apply}`, env());
    expect(r.status).toBe(0);
    expect((fs.statSync(path.join(dir, "lib")).mode & 0o777).toString(8)).toBe("755");
    expect((fs.statSync(file()).mode & 0o777).toString(8)).toBe("644");
  });

  it("changes holders only under the lock on /run: an apply waits while another holds it", () => {
    const started = Date.now();
    const r = runBash(`flock /run sleep 2 & sleep 0.3\n${libraryStage(demo).apply}\nwait`, env());
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    // Control: without the other holder it takes far less.
    const quick = Date.now();
    expect(runBash(libraryStage(other).apply, env()).status).toBe(0);
    expect(Date.now() - quick).toBeLessThan(1500);
  });

  it("tears down cleanly when the directory is already gone (a rebooted machine)", () => {
    expect(runBash(libraryStage(demo).teardown, env())).toMatchObject({ status: 0 });
  });

  it("holds per lab and host on real hosts, so that hosts sharing a file system keep theirs", () => {
    const real = resolveOk(hostsLab({ hosts: [sshHost("h1", "192.0.2.10"), sshHost("h2", "192.0.2.11")] }));
    const [h1, h2] = renderLab(real).filter((s) => s.id.startsWith("helpers/"));
    expect([h1.id, h2.id]).toEqual(["helpers/h1", "helpers/h2"]);
    for (const s of [h1, h2]) expect(runBash(s.apply, env()).status).toBe(0);
    expect(fs.readdirSync(path.join(dir, "lib", `${HELPER_LIBRARY_NAME}.holders`)).sort()).toEqual([`${real.prefix}@h1`, `${real.prefix}@h2`]);
    expect(runBash(h1.teardown, env()).status).toBe(0);
    expect(fs.existsSync(file())).toBe(true);
    expect(runBash(h2.teardown, env()).status).toBe(0);
    expect(fs.existsSync(path.join(dir, "lib"))).toBe(false);
  });

  it("is the only place the helper definitions travel in apply scripts; teardowns carry only what they call", () => {
    const stages = renderLab(demo);
    const defines = /^cn_(?!rollback\(\))[a-z0-9_]*\(\) \{/m;
    expect(stages.filter((s) => s.id !== "helpers" && defines.test(s.apply)).map((s) => s.id)).toEqual([]);
    const owner = stages.find((s) => s.id === "owner/h1")!;
    expect(owner.teardown).toMatch(/^cn_records_prune\(\) \{$/m);
    expect(owner.teardown).not.toMatch(/^cn_flood\(\) \{$/m);
  });
});
