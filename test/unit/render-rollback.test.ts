import { applyScript, renderLab } from "../../lib/render";
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

  it("network stage: when `ip link add` fails, the rollback probes the devices the stage owns", () => {
    const r = runBash(stage("network/h1").apply, ip.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("rolling back");
    const calls = ip.calls();
    const failed = calls.indexOf("link add zzunitb-blue mtu 1450 type bridge");
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(calls.slice(failed + 1)).toEqual(["link show dev zzunitv-blue", "link show dev zzunitb-blue"]);
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
});
