import { parseTcStats, qosEntries, qosReport, readCounters } from "../../lib/cli/qos";
import { Exec } from "../../lib/cli/ovs-switch";
import { formatIssues } from "../../lib/model";
import { inventoryOf } from "../../lib/render";
import { qosLab } from "../kernel/fixtures/qos-lab";
import { qosSwitchLab } from "../kernel/fixtures/qos-switch-lab";

/**
 * `cloudnet qos` against tc output captured from this machine's iproute2: how it reads the counters,
 * where it asks, and the rates it derives. The kernel tier (test/kernel/qos.test.ts) reads a real
 * tree under load.
 */
const r = qosLab("lab").resolve();
if (!r.lab) throw new Error(formatIssues(r.issues));
const inventory = inventoryOf(r.lab);
const major = r.lab.qosPolicies[0].major.toString(16);

/** `tc -s class show` of the textbook tree, as iproute2 prints it, with class a's counters set. */
function classes(aBytes: number, aBorrowed: number): string {
  const block = (minor: number, bytes: number, borrowed: number) =>
    `class htb ${major}:${minor} parent ${major}:1 leaf ${minor}: prio 0 rate 30Mbit ceil 100Mbit burst 15000b cburst 50000b \n` +
    ` Sent ${bytes} bytes ${Math.round(bytes / 1514)} pkt (dropped 3, overlimits 7 requeues 0) \n backlog 92232b 61p requeues 0\n lended: 10 borrowed: ${borrowed} giants: 0\n tokens: 62500 ctokens: 62500\n\n`;
  return `class htb ${major}:1 root rate 100Mbit ceil 100Mbit burst 50000b cburst 50000b \n Sent ${aBytes} bytes 8 pkt (dropped 0, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n lended: 0 borrowed: 0 giants: 0\n tokens: 62387 ctokens: 62387\n\n` +
    block(2, aBytes, aBorrowed) + block(3, 0, 0) + block(4, 0, 0);
}

describe("cloudnet qos", () => {
  it("reads each class's counters from tc's text, by classid", () => {
    const stats = parseTcStats(classes(12_500_000, 6051), "class");
    expect([...stats.keys()]).toEqual([`${major}:1`, `${major}:2`, `${major}:3`, `${major}:4`]);
    expect(stats.get(`${major}:2`)).toEqual({ bytes: 12_500_000, packets: 8256, drops: 3, overlimits: 7, borrowed: 6051, backlogBytes: 92232 });
  });

  it("reads a token bucket's counters from its qdisc line", () => {
    const text = `qdisc tbf ${major}: root refcnt 2 rate 20Mbit burst 10000b lat 50ms \n Sent 2500000 bytes 1652 pkt (dropped 12, overlimits 40 requeues 0) \n backlog 0b 0p requeues 0\n`;
    expect(parseTcStats(text, "qdisc").get(`${major}:`)).toMatchObject({ bytes: 2_500_000, drops: 12 });
  });

  it("asks tc in the host's namespace, for each of the guest's shaped devices", () => {
    const calls: string[][] = [];
    const exec: Exec = (c, a) => { calls.push([c, ...a]); return ""; };
    readCounters((h) => `ns-${h}`, qosEntries(inventory, "rx"), exec);
    expect(calls).toEqual([["ip", "netns", "exec", "ns-h1", "tc", "-s", "class", "show", "dev", "labt-rx-0"]]);
  });

  it("derives the live rate, drops and borrowing from two readings", () => {
    const entries = qosEntries(inventory, "rx");
    const before = new Map([["labt-rx-0", parseTcStats(classes(0, 100), "class")]]);
    const after = new Map([["labt-rx-0", parseTcStats(classes(12_500_000, 6151), "class")]]);
    const lines = qosReport(inventory, entries, before, after, 1);
    expect(lines[2]).toBe("rx NIC 0, traffic to it: policy textbook (htb) on h1, device labt-rx-0");
    expect(lines[3].split(/\s+/).filter(Boolean)).toEqual(["CLASS", "CLASSID", "RATE", "CEIL", "LIVE", "DROPS", "BORROWED", "BACKLOG"]);
    expect(lines[5].split(/\s+/).filter(Boolean)).toEqual(["a", `${major}:2`, "30.0", "100.0", "100.0", "0", "6051", "92232b"]);
  });

  it("says what it has when the node shapes nothing or is not in the lab", () => {
    expect(() => qosEntries(inventory, "sa")).toThrow("lab lab shapes nothing on guest sa: no QoS policy is applied to it.");
    expect(() => qosEntries(inventory, "nope")).toThrow(/lab lab has no host or guest 'nope' \(it has h1, rx, sa/);
  });
  it("on a host with switch QoS: the port's linux-htb classes (queue N is 1:N+1) and a meter's note, read on the port", () => {
    const sw = qosSwitchLab("sw").resolve();
    if (!sw.lab) throw new Error(formatIssues(sw.issues));
    const inv = inventoryOf(sw.lab);
    const h1 = qosEntries(inv, "h1");
    expect(h1.map((e) => [e.network, e.kind, e.direction])).toEqual([["t-net", "htb", "ingress"]]);
    expect(h1[0].classes.map((c) => [c.name, c.classid, c.rateBit])).toEqual([
      ["root", "1:fffe", 100e6], ["a", "1:2", 30e6], ["b", "1:3", 10e6], ["c", "1:1", 60e6]]);
    const h2 = qosEntries(inv, "h2");
    expect(h2.map((e) => [e.network, e.kind, e.direction])).toEqual([["t-metered", "meter", "egress"]]);
    const calls: string[][] = [];
    readCounters((h) => `ns-${h}`, [...h1, ...h2], (c, a) => { calls.push([c, ...a]); return ""; });
    expect(calls).toEqual([["ip", "netns", "exec", "ns-h1", "tc", "-s", "class", "show", "dev", h1[0].dev]]);
    const lines = qosReport(inv, h2, new Map(), new Map(), 1);
    expect(lines[2]).toBe(`network t-metered on h2, traffic from it through Open vSwitch: policy police (meter) on switch port ${h2[0].dev}`);
    expect(lines[3]).toMatch(/an OpenFlow meter: its counters are in ovs-ofctl meter-stats/);
  });
});
