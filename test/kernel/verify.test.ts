import { InventoryStore } from "../../lib/cli/inventory-store";
import { main } from "../../lib/cli/main";
import { Drift, repairPlan, verifyLab } from "../../lib/cli/verify";
import { renderLab } from "../../lib/render";
import { Deployment, runStage } from "../support/apply";
import { cleanupPrefix, deleteNetns, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { convergeLab } from "./fixtures/converge-lab";

/**
 * `cloudnet verify` against a deployed lab: in sync when fresh, and each kind of drift found and
 * named with the stage whose re-apply repairs it (re-applying exactly those stages brings it back in sync).
 */
const p = uniquePrefix("y");
const ns = (node: string) => `${p}-${node}`;
const lab = convergeLab(p, { guests: { g1: "h1", g2: "h2", g3: "h2" }, external: true, webGroup: ["g2", "g3"], floating: "g1", service: ["g2", "g3"], ipv6: true });
const stages = renderLab(lab);
const d = new Deployment();
const verify = (): Drift[] => verifyLab(new InventoryStore().lab(p));

/**
 * Does what verify advises, as `terraform apply -replace=…` would (each named stage's teardown, a
 * no-op but for owners, then its apply, in order), and checks the lab is in sync again.
 */
function repair(drift: readonly Drift[]): void {
  const plan = repairPlan(new InventoryStore().lab(p), drift);
  expect(plan.rebuild).toBe(false);
  for (const id of plan.replace) {
    const s = stages.find((x) => x.id === id)!;
    expect({ id, teardown: runStage(lab, s, "teardown").status, apply: runStage(lab, s, "apply").status }).toEqual({ id, teardown: 0, apply: 0 });
  }
  expect(verify()).toEqual([]);
}

describe("cloudnet verify (kernel)", () => {
  beforeAll(() => {
    requireRoot();
    d.deploy(lab);
  }, 120_000);
  afterAll(() => {
    try { d.destroy(); } finally { cleanupPrefix(p); }
  });

  test("a fresh deploy is in sync, and the CLI says so with exit 0", () => {
    expect(verify()).toEqual([]);
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(main(["verify", p])).toBe(0);
      expect(log.mock.calls.flat().join("\n")).toContain(`lab ${p}: in sync`);
    } finally {
      log.mockRestore();
    }
  });

  test("a deleted lab chain (and its hook) is found, with the rules stage to re-apply", () => {
    const zone = `CN-${p}-ZONE`;
    run("ip", ["netns", "exec", ns("h1"), "iptables", "-t", "raw", "-D", "PREROUTING", "-j", zone]);
    run("ip", ["netns", "exec", ns("h1"), "iptables", "-t", "raw", "-F", zone]);
    run("ip", ["netns", "exec", ns("h1"), "iptables", "-t", "raw", "-X", zone]);
    const drift = verify();
    expect(drift).toEqual(expect.arrayContaining([
      { kind: "missing", what: `chain ${zone} on host h1 (IPv4 raw)`, stage: "firewall/h1" },
      { kind: "missing", what: `hook PREROUTING -> ${zone} on host h1 (IPv4 raw)`, stage: "firewall/h1" },
    ]));
    expect(drift.every((x) => x.stage === "firewall/h1")).toBe(true);
    repair(drift);
  });

  test("an extra rule in a lab chain is found", () => {
    const fwd = `CN-${p}-FWD`;
    run("ip", ["netns", "exec", ns("h1"), "iptables", "-A", fwd, "-s", "192.0.2.66/32", "-j", "ACCEPT"]);
    const drift = verify();
    expect(drift).toEqual([{ kind: "extra", what: `rule in ${fwd}: -A ${fwd} -s 192.0.2.66/32 -j ACCEPT on host h1 (IPv4 filter)`, stage: "firewall/h1" }]);
    repair(drift);
  });

  test("a hook that another tool pushed down is found as changed, and re-applying the rules puts it back on top", () => {
    const fwd = `CN-${p}-FWD`;
    run("ip", ["netns", "exec", ns("h2"), "iptables", "-I", "FORWARD", "1", "-j", "ACCEPT"]);
    const drift = verify();
    expect(drift).toEqual([{ kind: "changed", what: `hook FORWARD -> ${fwd} on host h2 (IPv4 filter) is no longer the first rule`, stage: "firewall/h2" }]);
    repair(drift);
    const rules = run("ip", ["netns", "exec", ns("h2"), "iptables", "-S", "FORWARD"]).trim().split("\n");
    // The lab's hook first and once, the foreign rule still there below it.
    expect(rules.slice(1, 3)).toEqual([`-A FORWARD -j ${fwd}`, "-A FORWARD -j ACCEPT"]);
    expect(rules.filter((r) => r === `-A FORWARD -j ${fwd}`)).toHaveLength(1);
    run("ip", ["netns", "exec", ns("h2"), "iptables", "-D", "FORWARD", "-j", "ACCEPT"]);
  });

  test("a changed rule in an IPv6 security-group chain is found as one missing and one extra", () => {
    const chain = `CN-${p}-I-g2-0`;
    // The last rule is the default DROP: replace it with ACCEPT.
    const rules = run("ip", ["netns", "exec", ns("h2"), "ip6tables", "-S", chain]).trim().split("\n");
    run("ip", ["netns", "exec", ns("h2"), "ip6tables", "-R", chain, String(rules.length - 1), "-j", "ACCEPT"]);
    const drift = verify();
    expect(drift.map((x) => `${x.kind} ${x.what}`).sort()).toEqual([
      `extra rule in ${chain}: -A ${chain} -j ACCEPT on host h2 (IPv6 filter)`,
      `missing rule in ${chain}: -A ${chain} -j DROP on host h2 (IPv6 filter)`,
    ]);
    repair(drift);
  });

  test("a missing link is found, with the network stage to re-apply", () => {
    const vxlan = lab.segments.find((s) => s.name === "acme-app")!.overlayDev!;
    run("ip", ["-n", ns("h2"), "link", "del", vxlan]);
    const drift = verify();
    expect(drift).toEqual([{ kind: "missing", what: `link ${vxlan} on host h2`, stage: "network/h2" }]);
    repair(drift);
  });

  test("advice never replaces an owner: a stage's dependents are replaced with it, and what only an owner holds means a rebuild", () => {
    const inv = new InventoryStore().lab(p);
    const host = repairPlan(inv, [{ kind: "missing", what: `namespace ${ns("h1")}`, stage: "host/h1" }]);
    expect(host.rebuild).toBe(false);
    expect(host.replace).toEqual(expect.arrayContaining(["host/h1", "network/h1", "firewall/h1", "guest/g1", "converge/h1", "converge"]));
    expect(host.replace.filter((s) => s === "fabric" || s.startsWith("owner/"))).toEqual([]);
    expect(repairPlan(inv, [{ kind: "missing", what: `namespace ${ns("fabric")}`, stage: "fabric" }]).rebuild).toBe(true);
  });

  test("a deleted host namespace is found, and re-applying what the advice names rebuilds the host and what sits on it", () => {
    deleteNetns(ns("h2"));
    const drift = verify();
    expect(drift).toEqual(expect.arrayContaining([{ kind: "missing", what: `namespace ${ns("h2")}`, stage: "host/h2" }]));
    repair(drift);
  });

  test("a deleted namespace is found, and the CLI exits 1 with a terraform -replace for its stage", () => {
    deleteNetns(ns("g3"));
    const drift = verify();
    expect(drift).toEqual(expect.arrayContaining([{ kind: "missing", what: `namespace ${ns("g3")}`, stage: "guest/g3" }]));
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(main(["verify", p])).toBe(1);
      const out = log.mock.calls.flat().join("\n");
      expect(out).toContain(`missing namespace ${ns("g3")}  [guest/g3]`);
      expect(out).toMatch(/terraform apply .*-replace=terraform_data\.[A-Za-z0-9_]*Stages_guest_g3_hook_[0-9A-F]{8}/);
    } finally {
      log.mockRestore();
    }
    repair(drift);
  });
});
