import { qosMajor } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { demoSpec, emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";

/** The stages whose teardown removes anything: the emulated fabric and each host's owner. */
const OWNERS = ["fabric", "owner/h1", "owner/h2"];

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
  const all = renderLab(lab);
  // The helper library's stage puts one file in place and has tests of its own (render-library-stage).
  const stages = all.filter((s) => s.id !== "helpers");
  const byId = (id: string): Stage => stages.find((s) => s.id === id)!;

  it.each(all.map((s) => [s.id, s] as const))("%s: apply and teardown start with set -Eeuo pipefail and end with a newline", (_, stage) => {
    for (const script of [stage.apply, stage.teardown]) {
      expect(script.startsWith("set -Eeuo pipefail\n")).toBe(true);
      expect(script.endsWith("\n")).toBe(true);
    }
  });

  it.each(stages.map((s) => [s.id, s] as const))("%s: apply traps ERR and runs its rollback, defined before the trap", (_, stage) => {
    expect(stage.apply).toContain("trap 'rc=$?; cn_log \"apply failed (exit $rc), rolling back\"; set +e; cn_rollback; exit $rc' ERR");
    expect(rollbackBody(stage.apply).length).toBeGreaterThan(0);
    expect(stage.apply.indexOf("cn_rollback() {")).toBeLessThan(stage.apply.indexOf("trap '"));
  });

  it("rolls back only what the failed run itself created: a namespace it made, the inventory's temporary file, else nothing", () => {
    const fresh = (ns: string, devs = "") => `if [ "\${cn_fresh:-0}" = 1 ]; then cn_netns_del ${ns}${devs}; fi`;
    expect(Object.fromEntries(stages.map((s) => [s.id, rollbackBody(s.apply)]))).toEqual({
      "fabric": [fresh("demo-fabric")],
      "host/h1": [fresh("demo-h1", " eth0")],
      "owner/h1": [":"],
      // A failed network apply keeps what was live: the next deploy converges from there.
      "network/h1": [":"],
      // A failed rules apply keeps the previous rules (each table's restore is atomic).
      "firewall/h1": [":"],
      "host/h2": [fresh("demo-h2", " eth0")],
      "owner/h2": [":"],
      "network/h2": [":"],
      "firewall/h2": [":"],
      "guest/web": [fresh("demo-web", " eth0")],
      "guest/db": [fresh("demo-db", " eth0")],
      "inventory": ["rm -f /run/cloudnet/labs/demo.json.tmp"],
      "converge/h1": [":"],
      "converge/h2": [":"],
      "converge": [":"],
    });
  });

  it.each([["fabric", "demo-fabric"], ["host/h1", "demo-h1"], ["host/h2", "demo-h2"], ["guest/web", "demo-web"], ["guest/db", "demo-db"]])(
    "%s: notes whether its namespace is new before it makes it", (id, ns) => {
      const lines = byId(id).apply.split("\n");
      const check = lines.indexOf(`cn_fresh=1; [ ! -e /run/netns/${ns} ] || cn_fresh=0`);
      expect(check).toBeGreaterThan(lines.findIndex((l) => l.startsWith("trap ")));
      expect(check).toBeLessThan(lines.indexOf(`cn_netns_add ${ns}`));
      expect(lines.filter((l) => l.includes("cn_fresh=1"))).toHaveLength(1);
    });

  it.each(stages.filter((s) => !OWNERS.includes(s.id)).map((s) => [s.id, s] as const))("%s: teardown does nothing (only the owner stages remove)", (_, stage) => {
    const body = teardownBody(stage.teardown);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatch(/^: # /);
  });

  it("owner/<host>'s teardown removes every object of the lab's prefix on its host, and nothing else", () => {
    for (const h of ["h1", "h2"]) {
      expect(teardownBody(byId(`owner/${h}`).teardown)).toEqual([
        "cn_links_prune - demo -",
        ...["iptables", "ip6tables"].flatMap((t) => ["raw", "mangle", "nat", "filter"].map((table) => `cn_fw_prune - ${t} ${t}-save ${table} CN-demo- -`)),
        // Sets after the chains that named them.
        "cn_ipset_prune cn-demo- -",
        "cn_ipset_prune ct-demo- -",
        "nft delete table bridge cn_demo 2>/dev/null || true",
        `cn_records_prune demo-${h} demo routes -`,
        `cn_records_prune demo-${h} demo addresses -`,
        `cn_holds_prune demo-${h} demo -`,
        // Its BGP speaker (none here), which withdraws its routes as it stops.
        `cn_bird_down /run/cloudnet/bird/demo-${h} demo`,
        // Its switch (none here): the lab's bridges, then the host's own daemons.
        `cn_ovs_prune /run/cloudnet/ovs/demo-${h} demo -`,
        `cn_tc_prune ${qosMajor("demo").toString(16)} demo demo-${h} -`,
        `cn_state_tidy demo-${h}`,
      ]);
    }
  });

  it("the fabric's teardown removes every namespace of the lab (by its prefix) and its inventory file", () => {
    expect(teardownBody(byId("fabric").teardown)).toEqual([
      // Emulated hosts' switches stop before their namespaces go.
      "cn_ovs_dirs_prune /run/cloudnet/ovs demo -",
      "cn_netns_prune demo- -",
      "rm -f /run/cloudnet/labs/demo.json",
      "rmdir /run/cloudnet/labs 2>/dev/null || true",
      "cn_state_tidy",
    ]);
  });

  it("owner scripts depend on the prefix and host only: a different lab with the same prefix renders the same owners", () => {
    const other = renderLab(resolveOk(emulatedLab({
      name: "demo",
      hosts: [host("h1"), host("h2"), host("h3")],
      segments: [segment("blue", "10.10.0.0/24", { vni: 1234 }), segment("red", "10.20.0.0/24")],
      guests: [guest("web", "h2", [{ segment: "red", address: "10.20.0.11" }]), guest("cache", "h3", [{ segment: "blue" }])],
    })));
    const of = (ss: readonly Stage[], id: string) => ss.find((s) => s.id === id)!;
    for (const id of OWNERS) {
      expect(of(other, id).apply).toBe(byId(id).apply);
      expect(of(other, id).teardown).toBe(byId(id).teardown);
    }
  });

  it("no script flushes or deletes by pattern", () => {
    for (const s of stages) {
      for (const script of [s.apply, s.teardown]) {
        expect(script).not.toMatch(/\bflush\b|\bip -all\b|\bnetns delete -all\b|\biptables -F\b/);
      }
    }
  });

  it("the network stage declares the segment's bridge, VXLAN device and guest ends, which converge keeps and the owner removes", () => {
    expect(byId("network/h1").owns).toEqual([
      { kind: "link", name: "demob-blue" }, { kind: "link", name: "demov-blue" }, { kind: "link", name: "demot-web-0" },
    ]);
    expect(byId("converge/h1").apply.split("\n")).toContain("cn_links_prune - demo demob-blue,demot-web-0,demov-blue");
    expect(teardownBody(byId("owner/h1").teardown)).toContain("cn_links_prune - demo -");
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
    expect(web).toContain("ip -n demo-h1 link set dev demot-web-0 mtu 1450 master demob-blue up");
    // Re-applied over an older version: the MAC, the MTU and the addresses are brought up to date.
    expect(web).toContain(`cn_mac eth0 ${nic.mac} demo-web`);
    expect(web).toContain("ip -n demo-web link set dev eth0 mtu 1450");
    expect(web.indexOf("cn_addrs_only demo-web eth0 any 10.10.0.11/24")).toBeLessThan(web.indexOf("ip -n demo-web addr replace 10.10.0.11/24 dev eth0"));
    expect(web).toContain("ip -n demo-web addr replace 10.10.0.11/24 dev eth0");
  });

  it("puts each host's underlay address on its uplink and plugs it into the fabric bridge", () => {
    const h2 = byId("host/h2").apply;
    expect(h2).toContain("ip link add demof-h2 netns demo-fabric type veth peer name eth0 netns demo-h2");
    expect(h2).toContain("ip -n demo-fabric link set demof-h2 master fabric up");
    expect(h2).toContain("ip -n demo-h2 addr replace 198.18.0.2/24 dev eth0");
  });
});
