import { Stage, renderLab } from "../../lib/render";
import { demoSpec, resolveOk } from "./support/lab-specs";

/** The lines of a teardown script after its log line: what it actually removes. */
function teardownBody(script: string): string[] {
  const lines = script.trimEnd().split("\n");
  const log = lines.findIndex((l) => l.startsWith("cn_log 'remove "));
  expect(log).toBeGreaterThan(0);
  return lines.slice(log + 1);
}

/** The body of the cn_rollback function of an apply script. */
function rollbackBody(script: string): string[] {
  const lines = script.split("\n");
  const start = lines.indexOf("cn_rollback() {");
  const end = lines.indexOf("}", start);
  expect(start).toBeGreaterThan(0);
  return lines.slice(start + 1, end).map((l) => l.replace(/^ {2}/, ""));
}

describe("rendered scripts", () => {
  const lab = resolveOk(demoSpec());
  const stages = renderLab(lab);
  const byId = (id: string): Stage => stages.find((s) => s.id === id)!;

  it.each(stages.map((s) => [s.id, s] as const))("%s: apply and teardown start with set -Eeuo pipefail and end with a newline", (_, stage) => {
    for (const script of [stage.apply, stage.teardown]) {
      expect(script.startsWith("set -Eeuo pipefail\n")).toBe(true);
      expect(script.endsWith("\n")).toBe(true);
    }
  });

  it.each(stages.map((s) => [s.id, s] as const))("%s: apply traps ERR and rolls back with exactly the teardown lines", (_, stage) => {
    expect(stage.apply).toContain("trap 'rc=$?; cn_log \"apply failed (exit $rc), rolling back\"; set +e; cn_rollback; exit $rc' ERR");
    expect(rollbackBody(stage.apply)).toEqual(teardownBody(stage.teardown));
    expect(stage.apply.indexOf("cn_rollback() {")).toBeLessThan(stage.apply.indexOf("trap '"));
  });

  it.each(stages.map((s) => [s.id, s] as const))("%s: teardown removes only names the lab owns", (_, stage) => {
    const body = teardownBody(stage.teardown);
    expect(body.length).toBeGreaterThan(0);
    for (const line of body) {
      const [cmd, ...args] = line.split(" ");
      if (cmd === "rm") {
        expect(args).toEqual(["-f", `/run/cloudnet/labs/${lab.name}.json`]);
        continue;
      }
      expect(["cn_netns_del", "cn_link_del"]).toContain(cmd);
      expect(args[0].startsWith(lab.prefix)).toBe(true);
      // cn_netns_del may name devices to delete first: they live inside that (owned) namespace.
      if (cmd === "cn_netns_del") for (const dev of args.slice(1)) expect(dev).toMatch(/^(eth\d+|gw0|ext0)$/);
      else expect(args).toHaveLength(1);
    }
  });

  it("no script flushes or deletes by pattern", () => {
    for (const s of stages) {
      for (const script of [s.apply, s.teardown]) {
        expect(script).not.toMatch(/\bflush\b|\bip -all\b|\bnetns delete -all\b|\biptables -F\b/);
      }
    }
  });

  it("tears down the segment's VXLAN device before its bridge", () => {
    expect(teardownBody(byId("network/h1").teardown)).toEqual(["cn_link_del demov-blue", "cn_link_del demob-blue"]);
  });

  it("creates each device only when missing, so a second apply changes nothing", () => {
    const adds = stages.flatMap((s) => s.apply.split("\n")).filter((l) => /\blink add\b/.test(l));
    expect(adds.length).toBeGreaterThan(0);
    for (const line of adds) expect(line).toMatch(/^if cn_link_missing \S+( \S+)?; then .* link add .*; fi$/);
  });

  it("gives a guest NIC its address, MAC and the segment MTU on both veth ends", () => {
    const web = byId("guest/web").apply;
    const nic = lab.guests.find((g) => g.name === "web")!.nics[0];
    expect(web).toContain(
      `if cn_link_missing eth0 demo-web; then ip link add eth0 netns demo-web address ${nic.mac} mtu 1450 type veth peer name demot-web-0 netns demo-h1 mtu 1450; fi`,
    );
    expect(web).toContain("ip -n demo-h1 link set demot-web-0 master demob-blue up");
    expect(web).toContain("ip -n demo-web addr replace 10.10.0.11/24 dev eth0");
  });

  it("puts each host's underlay address on its uplink and plugs it into the fabric bridge", () => {
    const h2 = byId("host/h2").apply;
    expect(h2).toContain("ip link add demof-h2 netns demo-fabric type veth peer name eth0 netns demo-h2");
    expect(h2).toContain("ip -n demo-fabric link set demof-h2 master fabric up");
    expect(h2).toContain("ip -n demo-h2 addr replace 198.18.0.2/24 dev eth0");
  });
});
