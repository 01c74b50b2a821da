import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELPER_LIBRARY, HELPER_LIBRARY_NAME, applyScript, renderLab } from "../../lib/render";
import { emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";
import { failingIp, runBash } from "./support/bash";

/**
 * Runs rendered apply scripts with a fake `ip` that fails every call, so the first kernel change
 * fails. Nothing on the machine is touched. The lab prefix is one no real lab uses.
 */
describe("apply rolls back on failure", () => {
  const lab = resolveOk(emulatedLab({
    name: "zzunit",
    hosts: [host("h1")], segments: [segment("blue", "10.10.0.0/24")], guests: [guest("web", "h1", [{ segment: "blue" }])],
  }));
  const stage = (id: string) => renderLab(lab).find((s) => s.id === id)!;
  let ip: ReturnType<typeof failingIp>;
  beforeEach(() => { ip = failingIp(); });
  afterEach(() => ip.remove());

  it("a failing top-level command runs the teardown and keeps the exit status", () => {
    const r = runBash(applyScript("t", ["echo built", "false", "echo not-reached"], ["echo ROLLBACK"]));
    expect(r.stdout).toBe("built\nROLLBACK\n");
    expect(r.stderr).toContain("apply failed (exit 1), rolling back");
    expect(r.status).toBe(1);
  });

  it("network stage: when `ip link add` fails, the apply stops there and removes nothing (a failed apply keeps what was live)", () => {
    const r = runBash(stage("network/h1").apply, ip.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("rolling back");
    expect(ip.calls()).toEqual(["link show dev zzunitb-blue", "link add zzunitb-blue mtu 1450 type bridge"]);
  });

  // Regression (fixed): lib/render/script.ts:6 starts scripts with `set -euo pipefail` but not `set -E` (errtrace).
  // Bash does not run an ERR trap for a command that fails inside a shell function unless errtrace is
  // on, and `set -e` then exits at once: a failure inside a helper (cn_netns_add here) skips
  // cn_rollback entirely. Repro: `bash -c 'set -euo pipefail; f(){ false; }; trap "echo TRAP" ERR; f'`
  // prints nothing; with `set -Eeuo pipefail` it prints TRAP.
  it("guest stage: when a helper function fails (cn_netns_add), the rollback still runs", () => {
    const r = runBash(stage("guest/web").apply, ip.env);
    expect(ip.calls()[0]).toBe("netns add zzunit-web");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("rolling back");
  });

  describe("namespace stages remove a namespace on failure only if this run created it", () => {
    // The scripts look for namespaces under /run/netns; here under a directory of the test's own,
    // with an `ip` whose `netns add` makes the namespace there and whose other calls fail.
    let dir: string;
    let env: Record<string, string>;
    const calls = () => fs.readFileSync(path.join(dir, "ip.log"), "utf8").split("\n").filter(Boolean);
    const run = (script: string) => runBash(script.split("/run/netns/").join(`${dir}/netns/`), env);
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-unit-"));
      fs.mkdirSync(path.join(dir, "netns"));
      fs.writeFileSync(path.join(dir, "ip.log"), "");
      fs.writeFileSync(path.join(dir, "ip"), [
        "#!/bin/sh",
        `echo "$*" >> '${dir}/ip.log'`,
        `if [ "$1 $2" = "netns add" ]; then : > '${dir}/netns/'"$3"; exit 0; fi`,
        "exit 1",
        "",
      ].join("\n"), { mode: 0o755 });
      // The helper library the scripts source, with the same directory in place of /run/netns.
      fs.mkdirSync(path.join(dir, "lib"));
      fs.writeFileSync(path.join(dir, "lib", `${HELPER_LIBRARY_NAME}.sh`), HELPER_LIBRARY.split("/run/netns/").join(`${dir}/netns/`));
      env = { PATH: `${dir}:${process.env.PATH}`, CLOUDNET_LIB: path.join(dir, "lib") };
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("guest stage, new namespace: the failure after `netns add` deletes the guest's NIC and the namespace", () => {
      const r = run(stage("guest/web").apply);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("rolling back");
      const c = calls();
      expect(c.slice(0, 2)).toEqual(["netns add zzunit-web", "-n zzunit-web link set lo up"]);
      expect(c).toContain("-n zzunit-web link del dev eth0");
      expect(c[c.length - 1]).toBe("netns del zzunit-web");
    });

    it("guest stage, namespace already there (a re-apply): the failure leaves it and everything in it", () => {
      fs.writeFileSync(path.join(dir, "netns", "zzunit-web"), "");
      const r = run(stage("guest/web").apply);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("rolling back");
      expect(calls()).toEqual(["-n zzunit-web link set lo up"]);
      expect(fs.existsSync(path.join(dir, "netns", "zzunit-web"))).toBe(true);
    });

    it.each([["fabric", "zzunit-fabric"], ["host/h1", "zzunit-h1"]])("%s: the same, for its namespace", (id, ns) => {
      const fresh = run(stage(id).apply);
      expect(fresh.status).not.toBe(0);
      expect(calls()[calls().length - 1]).toBe(`netns del ${ns}`);
      fs.writeFileSync(path.join(dir, "ip.log"), "");
      const again = run(stage(id).apply);
      expect(again.status).not.toBe(0);
      expect(calls()).toEqual([`-n ${ns} link set lo up`]);
    });
  });
});
