import { flowsReport } from "../../lib/cli/flows";
import { Exec } from "../../lib/cli/ovs-switch";
import { traceReport } from "../../lib/cli/trace";
import { formatIssues } from "../../lib/model";
import { Tunnel } from "../../lib";
import { inventoryOf } from "../../lib/render";
import { overlayLab } from "../kernel/fixtures/overlay-lab";

/**
 * `cloudnet flows` and `cloudnet trace` against a switch that answers from text: which commands they
 * run, how they read the answers, and what they say when the question cannot be asked. The kernel
 * tier (test/kernel/overlay-pipeline.test.ts) runs both against real switches.
 */
const resolution = overlayLab("lab", Tunnel.vxlan()).resolve();
if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
const lab = resolution.lab;
const inventory = inventoryOf(lab);
const cluster = inventory.clusters![0];
const blue = cluster.networks.find((n) => n.name === "blue-app")!;
const mac = (guest: string) => blue.endpoints.find((e) => e.name === guest)!.mac;
const address = (host: string) => cluster.hosts.find((h) => h.name === host)!.tunnelAddress;

/** An Exec that records each call and answers with the next of `answers`. */
function fakeSwitch(...answers: string[]): { exec: Exec; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, exec: (command, args) => { calls.push([command, ...args]); return answers.shift() ?? ""; } };
}

describe("cloudnet trace", () => {
  it("traces on the source's integration bridge at its port, then on the next hop's tunnel bridge from the tunnel, with the same headers", () => {
    const sw = fakeSwitch(
      `bridge("${cluster.tunnelBridge}")\n 0. in_port=1, priority 1\n    resubmit(,2)\n20. dl_vlan=1, priority 2\n    output:"labn-h2"\nDatapath actions: tnl_push(tnl_port(vxlan_sys_4789),header(size=50),out_port(labp-h1)),tun0\n`,
      `bridge("${cluster.tunnelBridge}")\n 0. in_port="labn-h1", priority 1\n 4. tun_id=0x3e8, priority 1\n10. priority 1\nbridge("${cluster.integrationBridge}")\n 0. in_port=1, priority 1\n    NORMAL\nDatapath actions: ${blue.ovsPort}\n`,
    );
    const lines = traceReport(inventory, "b1", "b2", { tcp: 8080 }, sw.exec);
    const inner = `dl_src=${mac("b1")},dl_dst=${mac("b2")},tcp,nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,tcp_src=40000,tcp_dst=8080,tcp_flags=0x002`;
    expect(sw.calls).toEqual([
      ["ovs-appctl", "-t", "/run/cloudnet/ovs/lab-h1/ovs-vswitchd.ctl", "ofproto/trace", "--names", cluster.integrationBridge, `in_port=${blue.ovsPort},${inner}`],
      ["ovs-appctl", "-t", "/run/cloudnet/ovs/lab-h2/ovs-vswitchd.ctl", "ofproto/trace", "--names", cluster.tunnelBridge,
        `in_port=labn-h1,tun_id=0x${blue.vni!.toString(16)},tun_src=${address("h1")},tun_dst=${address("h2")},${inner}`],
    ]);
    expect(lines[0]).toBe(`TCP SYN to port 8080 from b1 (10.0.0.11, h1) to 10.0.0.12 (b2 on h2), on network blue-app (VNI ${blue.vni}) of cluster sdn`);
    // Each step is preceded by its table's name, in the bridge it belongs to.
    expect(lines).toContain("    # table 20: outbound unicast: local VLAN and MAC to the tunnel of the MAC's host (L2 population, learned); unknown to 22");
    expect(lines).toContain(`bridge("${cluster.integrationBridge}")  integration bridge`);
    expect(lines[lines.length - 1]).toBe(`Delivered on h2 to ${blue.ovsPort}, the port of network blue-app's Linux bridge ${blue.bridge}, where security groups apply (iptables, not traced here); from there to b2.`);
  });

  it("stops where the packet does not take the tunnel to the next hop's host", () => {
    const sw = fakeSwitch(`bridge("${cluster.integrationBridge}")\n 0. priority 0\n    drop\nDatapath actions: drop\n`);
    const lines = traceReport(inventory, "b1", "b2", {}, sw.exec);
    expect(sw.calls).toHaveLength(1);
    expect(lines[lines.length - 1]).toBe("The packet does not go into the tunnel to h2 (labn-h2), where b2 is: see the steps above.");
  });

  it("says that two guests on one host and network never reach Open vSwitch", () => {
    const sw = fakeSwitch();
    const lines = traceReport(inventory, "r2", "r4", {}, sw.exec);
    expect(sw.calls).toEqual([]);
    expect(lines[lines.length - 1]).toMatch(/^r2 and r4 are both on h2, on network red-app's Linux bridge \S+: the frame goes from one port of it to the other/);
  });

  it("refuses what it cannot trace, saying why and what it can", () => {
    const none = fakeSwitch().exec;
    expect(() => traceReport(inventory, "nobody", "b2", {}, none)).toThrow("'nobody' has no port on a network of an overlay cluster of lab 'lab' (cloudnet trace follows Open vSwitch); those that do: b1, b2, b3, g1, g2, r1, r2, r3, r4.");
    expect(() => traceReport(inventory, "b1", "10.0.0.50", {}, none)).toThrow("nothing on network blue-app has 10.0.0.50: b1's ARP for it would go unanswered.");
    expect(() => traceReport(inventory, "b1", "192.0.2.1", {}, none)).toThrow("192.0.2.1 is beyond b1's network (10.0.0.0/24), which has no router.");
    // r2 is red's, at the address b2 has on blue: never traced as if it were b2.
    expect(() => traceReport(inventory, "b1", "r2", {}, none)).toThrow("'r2' is not on b1's network blue-app, whose subnet holds its address 10.0.0.12 (there b2 has it: trace 10.0.0.12 to follow that packet); name a guest or router of blue-app, or an address.");
    expect(() => traceReport(inventory, "b1", "elsewhere", {}, none)).toThrow(/^'elsewhere' is neither a node of lab 'lab' \(.*\) nor an IP address\.$/);
    expect(() => traceReport({ ...inventory, clusters: undefined }, "b1", "b2", {}, none)).toThrow("lab 'lab' has no overlay cluster (or was deployed before inventories described them; deploy it again).");
  });
});

describe("cloudnet flows", () => {
  it("shows the lab's flows only, by table with each table's name, learned ones marked, learn()'s own arguments intact", () => {
    const learn = `learn(table=20,hard_timeout=300,priority=1,cookie=${cluster.learnedCookie},NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:OXM_OF_IN_PORT[]),output:"labpi-sdn"`;
    const sw = fakeSwitch(
      ` cookie=${cluster.cookie}, priority=1,in_port="${blue.ovsPort}",dl_src=${mac("b1")} actions=NORMAL\n cookie=${cluster.cookie}, priority=0 actions=drop\n`,
      [
        `NXST_FLOW reply (xid=0x4):`,
        ` cookie=${cluster.cookie}, duration=5.1s, table=10, n_packets=7, n_bytes=600, priority=1 actions=${learn}`,
        ` cookie=${cluster.learnedCookie}, duration=2.0s, table=20, n_packets=3, n_bytes=294, hard_timeout=300, priority=1,vlan_tci=0x0001/0x0fff,dl_dst=${mac("b2")} actions=output:"labn-h2"`,
        ` cookie=0x1234, duration=9.0s, table=20, n_packets=0, n_bytes=0, priority=9 actions=drop`,
      ].join("\n"),
      ` cookie=${cluster.cookie}, duration=5.1s, n_packets=40, n_bytes=4000, priority=0 actions=NORMAL\n`,
    );
    const lines = flowsReport(inventory, "h1", { stats: true }, sw.exec);
    expect(sw.calls.map((c) => c.slice(0, 5).concat(c[c.length - 1]))).toEqual([
      ["ovs-ofctl", "-O", "OpenFlow14", "dump-flows", "--rsort", `unix:/run/cloudnet/ovs/lab-h1/${cluster.integrationBridge}.mgmt`],
      ["ovs-ofctl", "-O", "OpenFlow14", "dump-flows", "--rsort", `unix:/run/cloudnet/ovs/lab-h1/${cluster.tunnelBridge}.mgmt`],
      ["ovs-ofctl", "-O", "OpenFlow14", "dump-flows", "--rsort", "unix:/run/cloudnet/ovs/lab-h1/labp-h1.mgmt"],
    ]);
    expect(lines).toEqual([
      `lab lab, host h1: cluster sdn (vxlan), cookie ${cluster.cookie}`,
      "",
      `integration bridge ${cluster.integrationBridge}: 2 flows`,
      expect.stringMatching(/^ {2}table 0: source check: /),
      `    priority=1,in_port="${blue.ovsPort}",dl_src=${mac("b1")} actions=NORMAL`,
      "    priority=0 actions=drop",
      "",
      `tunnel bridge ${cluster.tunnelBridge}: 2 flows`,
      expect.stringMatching(/^ {2}table 10: learn\(\) where the source MAC lives/),
      `    7 pkts  priority=1 actions=${learn}`,
      expect.stringMatching(/^ {2}table 20: outbound unicast: /),
      `    3 pkts  hard_timeout=300, priority=1,vlan_tci=0x0001/0x0fff,dl_dst=${mac("b2")} actions=output:"labn-h2"  (learned)`,
      "",
      "provider bridge labp-h1: 1 flow",
      expect.stringMatching(/^ {2}table 0: trunk: /),
      "    40 pkts  priority=0 actions=NORMAL",
    ]);
  });

  it("names the cluster hosts when asked for another", () => {
    expect(() => flowsReport(inventory, "h9", { stats: false }, fakeSwitch().exec)).toThrow("host 'h9' is in no overlay cluster of lab 'lab'; its cluster hosts are: h1, h2, h3.");
  });
});
