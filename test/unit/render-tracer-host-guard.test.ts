import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIREWALL_HELPERS } from "../../lib/render";
import { runBash } from "./support/bash";
import { Packet, packetBytes, parseRestore, u32Matches, verdict } from "./support/iptables";
import { applyHooks, hookFirst, hookLinesOf } from "./support/firewall-stage";

/**
 * The test tracer's additions for the host guard (support/iptables.ts, support/firewall-stage.ts):
 * `-m u32` over a packet's bytes, `-m multiport --dports`, `-m udp`, and cn_hook_first's effect on a
 * built-in chain. Each is shown to match, not to match, and to refuse what it does not understand.
 */
const V4 = "0x0>>0x16&0x3c@0xc>>0x8";
const V6 = "0x34>>0x8";

describe("packetBytes and u32Matches", () => {
  const udp = (p: Partial<Packet>): Packet => ({ src: "198.18.0.2", dst: "198.18.0.1", proto: "udp", sport: 51234, dport: 4789, ...p });

  it("lays out an IPv4 header (IHL 5), the UDP header and the VXLAN header with its VNI", () => {
    const b = packetBytes(udp({ vni: 0x123456 }));
    expect(b.length).toBe(20 + 8 + 8);
    expect(b[0]).toBe(0x45);
    expect(b[9]).toBe(17);
    expect([...b.slice(12, 16)]).toEqual([198, 18, 0, 2]);
    expect([...b.slice(22, 24)]).toEqual([0x12, 0xb5]);
    expect([...b.slice(28, 36)]).toEqual([0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
    expect(packetBytes(udp({ src: "2001:db8::2", dst: "2001:db8::1", vni: 7 })).length).toBe(40 + 8 + 8);
  });

  it("reads the VNI through the IPv4 header length (@) and at the fixed IPv6 offset", () => {
    expect(u32Matches(packetBytes(udp({ vni: 1000 })), `${V4}=0x3e8`)).toBe(true);
    expect(u32Matches(packetBytes(udp({ vni: 1001 })), `${V4}=0x3e8`)).toBe(false);
    expect(u32Matches(packetBytes(udp({ vni: 1000 })), `${V4}=0x3e0:0x3f0`)).toBe(true);
    expect(u32Matches(packetBytes(udp({ vni: 1000 })), `${V4}=1,2,1000`)).toBe(true);
    const six = udp({ src: "2001:db8::2", dst: "2001:db8::1", vni: 4242 });
    expect(u32Matches(packetBytes(six), `${V6}=0x1092`)).toBe(true);
    expect(u32Matches(packetBytes(six), `${V6}=0x1093`)).toBe(false);
  });

  it("a read past the packet's end is no match (a UDP packet without a VXLAN header)", () => {
    expect(u32Matches(packetBytes(udp({})), `${V4}=0x0`)).toBe(false);
    expect(u32Matches(packetBytes({ src: "10.0.0.1", dst: "10.0.0.2", proto: "tcp", dport: 22 }), `${V4}=0x0`)).toBe(false);
  });

  it("refuses what is not u32's grammar", () => {
    expect(() => u32Matches(packetBytes(udp({ vni: 1 })), "0x0>>zz=1")).toThrow("u32: 'zz' is not a number");
    expect(() => u32Matches(packetBytes(udp({ vni: 1 })), "0x0")).toThrow("is not LOCATION=VALUE");
    expect(() => packetBytes({ src: "10.0.0.1", dst: "10.0.0.2", proto: "tcp", vni: 1 })).toThrow("a VNI on a tcp packet");
  });
});

describe("trace with the host guard's matches", () => {
  const tables = parseRestore([
    "*filter",
    ":IN - [0:0]",
    ":T - [0:0]",
    `-A IN -i eth0 -s 198.18.0.2/32 -p udp -m udp --dport 4789 -m u32 --u32 "${V4}=0x3e8" -j ACCEPT`,
    `-A IN -p udp -m udp --dport 4789 -m u32 --u32 "${V4}=0x3e8" -j DROP`,
    "-A IN -p udp -m multiport --dports 4789,6081,7000:7010 -j T",
    "-A T -d 198.18.0.1/32 -j DROP",
    "COMMIT",
    "",
  ].join("\n"));
  const v = (p: Partial<Packet>) => verdict(tables, "filter", "IN", { src: "198.18.0.2", dst: "198.18.0.1", proto: "udp", sport: 1, dport: 4789, in: "eth0", vni: 1000, ...p }).target;

  it("u32 and -i decide the VXLAN rules", () => {
    expect(v({})).toBe("ACCEPT");
    expect(v({ in: "x-link" })).toBe("DROP");
    expect(v({ src: "198.18.0.9" })).toBe("DROP");
    // Another VNI falls to the multiport jump, whose chain drops it towards 198.18.0.1.
    expect(v({ vni: 1001 })).toBe("DROP");
    expect(v({ vni: 1001, dst: "198.18.0.7" })).toBe("END");
  });

  it("multiport matches any listed port or range, and only those", () => {
    for (const dport of [6081, 7000, 7005, 7010]) expect(v({ vni: undefined, dport })).toBe("DROP");
    for (const dport of [6080, 6999, 7011]) expect(v({ vni: undefined, dport })).toBe("END");
    expect(v({ proto: "tcp", vni: undefined, dport: 6081 })).toBe("END");
  });

  it("refuses -m udp without -p udp, and --dports without -m multiport", () => {
    const odd = parseRestore("*filter\n:X - [0:0]\n-A X -m udp --dport 1 -j DROP\n-A X -p udp --dports 1 -j DROP\nCOMMIT\n");
    expect(() => verdict(odd, "filter", "X", { src: "10.0.0.1", dst: "10.0.0.2", proto: "udp", dport: 1 })).toThrow("-m udp without -p udp");
    const odd2 = parseRestore("*filter\n:X - [0:0]\n-A X -p udp --dports 1 -j DROP\nCOMMIT\n");
    expect(() => verdict(odd2, "filter", "X", { src: "10.0.0.1", dst: "10.0.0.2", proto: "udp", dport: 1 })).toThrow("--dports without -m multiport");
  });
});

describe("hookFirst (what cn_hook_first leaves in a built-in chain)", () => {
  it("leaves a chain alone whose jump is there once, with only labs' hooks above it", () => {
    expect(hookFirst(["CN-x-FWD", "DOCKER-USER"], "CN-x-FWD")).toEqual(["CN-x-FWD", "DOCKER-USER"]);
    expect(hookFirst(["CN-other-FWD", "CN-x-FWD", "DOCKER-USER"], "CN-x-FWD")).toEqual(["CN-other-FWD", "CN-x-FWD", "DOCKER-USER"]);
  });

  it("puts the jump on top when it is missing, below another tool's, or there twice", () => {
    expect(hookFirst(["DOCKER-USER"], "CN-x-FWD")).toEqual(["CN-x-FWD", "DOCKER-USER"]);
    expect(hookFirst(["DOCKER-USER", "CN-x-FWD"], "CN-x-FWD")).toEqual(["CN-x-FWD", "DOCKER-USER"]);
    expect(hookFirst(["CN-x-FWD", "DOCKER-USER", "CN-x-FWD"], "CN-x-FWD")).toEqual(["CN-x-FWD", "DOCKER-USER"]);
  });

  it("hookLinesOf reads the host's hook lines per family and refuses odd ones; applyHooks runs them", () => {
    const script = [
      "cn_hook_first - iptables filter FORWARD CN-x-FWD",
      "cn_hook_first - ip6tables filter INPUT CN-x-IN",
      "cn_hook_first x-rt.web iptables nat PREROUTING CN-x-DNAT",
    ].join("\n");
    expect(hookLinesOf(script)).toEqual({ 4: ["filter FORWARD CN-x-FWD"], 6: ["filter INPUT CN-x-IN"] });
    expect(hookLinesOf(script, "x-rt.web")).toEqual({ 4: ["nat PREROUTING CN-x-DNAT"], 6: [] });
    expect(() => hookLinesOf("cn_hook_first - iptables filter SIDEWAYS CN-x-FWD")).toThrow("unexpected hook line");
    expect(applyHooks(["filter FORWARD CN-x-FWD"], { "filter FORWARD": ["DOCKER-USER"] }).get("filter FORWARD")).toEqual(["CN-x-FWD", "DOCKER-USER"]);
  });
});

/**
 * A stand-in `iptables` that keeps built-in chains of `-j X` rules in a JSON file and understands
 * what cn_hook_first runs: `-w -t T -S B [N]`, `-w -t T -I B 1 -j X`, `-w -t T -D B N`.
 */
const FAKE_IPTABLES = `#!${process.execPath}
const fs = require("fs");
const file = process.env.FAKE_IPTABLES_STATE;
const state = JSON.parse(fs.readFileSync(file, "utf8"));
const a = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_IPTABLES_LOG, a.join(" ") + "\\n");
if (a[0] !== "-w" || a[1] !== "-t") process.exit(2);
const key = a[2] + " " + a[4];
const rules = state[key] || (state[key] = []);
const line = (x) => "-A " + a[4] + " -j " + x;
if (a[3] === "-S" && a.length === 5) { console.log("-P " + a[4] + " ACCEPT"); rules.forEach((r) => console.log(line(r))); process.exit(0); }
if (a[3] === "-S" && a.length === 6) { const r = rules[Number(a[5]) - 1]; if (!r) { console.error("iptables: Index of deletion too big."); process.exit(1); } console.log(line(r)); process.exit(0); }
if (a[3] === "-I" && a[5] === "1" && a[6] === "-j") rules.unshift(a[7]);
else if (a[3] === "-D" && a.length === 6) { if (!rules[Number(a[5]) - 1]) process.exit(1); rules.splice(Number(a[5]) - 1, 1); }
else process.exit(2);
fs.writeFileSync(file, JSON.stringify(state));
`;

describe("cn_hook_first (FIREWALL_HELPERS) against a stand-in iptables", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-hook-first-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "iptables"), FAKE_IPTABLES, { mode: 0o755 });
  const state = path.join(dir, "state.json");
  const log = path.join(dir, "log");

  /** Runs cn_hook_first for CN-x-FWD on a FORWARD that holds `before`; returns what it holds after, and the changing calls. */
  function run(before: string[]): { after: string[]; changes: string[] } {
    fs.writeFileSync(state, JSON.stringify({ "filter FORWARD": before }));
    fs.writeFileSync(log, "");
    const r = runBash(["set -Eeuo pipefail", ...FIREWALL_HELPERS, "cn_hook_first - iptables filter FORWARD CN-x-FWD"].join("\n"), {
      PATH: `${dir}:${process.env.PATH}`, FAKE_IPTABLES_STATE: state, FAKE_IPTABLES_LOG: log,
    });
    expect(r).toMatchObject({ status: 0, stderr: "" });
    const changes = fs.readFileSync(log, "utf8").split("\n").filter((l) => / -[ID] /.test(l));
    return { after: JSON.parse(fs.readFileSync(state, "utf8"))["filter FORWARD"], changes };
  }

  it.each([
    ["empty", []],
    ["first already", ["CN-x-FWD", "DOCKER-USER"]],
    ["below another lab's hook", ["CN-other-FWD", "CN-x-FWD", "DOCKER-USER"]],
    ["pushed down by another tool", ["DOCKER-USER", "CN-x-FWD", "DOCKER-FORWARD"]],
    ["there twice", ["CN-x-FWD", "DOCKER-USER", "CN-x-FWD"]],
    ["missing, under other tools", ["DOCKER-USER", "DOCKER-FORWARD"]],
  ])("%s: leaves FORWARD as hookFirst says", (_, before) => {
    expect(run(before).after).toEqual(hookFirst(before, "CN-x-FWD"));
  });

  it("changes nothing where the hook is in place, and inserts before it deletes (no moment without the hook)", () => {
    expect(run(["CN-x-FWD", "DOCKER-USER"]).changes).toEqual([]);
    expect(run(["CN-other-FWD", "CN-x-FWD"]).changes).toEqual([]);
    expect(run(["DOCKER-USER", "CN-x-FWD"]).changes).toEqual(["-w -t filter -I FORWARD 1 -j CN-x-FWD", "-w -t filter -D FORWARD 3"]);
  });
});
