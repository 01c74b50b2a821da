import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASE_HELPERS, NETWORK_HELPERS, renderHostNetwork } from "../../lib/render";
import { runBash } from "./support/bash";
import { ResolvedLab } from "../../lib/model";
import { emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";

function floodLines(lab: ResolvedLab, hostName: string): string[] {
  const stage = renderHostNetwork(lab, lab.hosts.find((h) => h.name === hostName)!, [])!;
  const lines = stage.apply.split("\n");
  // The body, after the helpers: every line that sets flood entries.
  return lines.slice(lines.findIndex((l) => l.startsWith("trap "))).filter((l) => /^cn_flood |bridge fdb/.test(l));
}

/**
 * Runs `script` with a stand-in `bridge` on PATH whose `fdb show` prints `fdb` and which records every
 * call; returns the calls. The script must succeed without writing to stderr.
 */
function withStandInBridge(fdb: readonly string[], script: readonly string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-unit-"));
  try {
    fs.writeFileSync(path.join(dir, "bridge"), [
      "#!/bin/sh",
      `echo "$*" >> '${dir}/bridge.log'`,
      "if [ \"$1 $2\" = \"fdb show\" ]; then",
      ...fdb.map((l) => `  echo '${l}'`),
      "fi",
      "",
    ].join("\n"), { mode: 0o755 });
    const r = runBash(script.join("\n"), { PATH: `${dir}:${process.env.PATH}` });
    expect(r).toMatchObject({ status: 0, stderr: "" });
    return fs.readFileSync(path.join(dir, "bridge.log"), "utf8").trimEnd().split("\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("network stage", () => {
  // red spans h1, h2, h3 (through its guests); green spans h1 and h2 only.
  const lab = resolveOk(emulatedLab({
    name: "net",
    hosts: [host("h1"), host("h2"), host("h3")],
    segments: [segment("red", "10.1.0.0/24", { vni: 5001 }), segment("green", "10.2.0.0/24", { hosts: ["h1", "h2"] })],
    guests: [guest("a", "h1", [{ segment: "red" }]), guest("b", "h2", [{ segment: "red" }]), guest("c", "h3", [{ segment: "red" }])],
  }));

  it("sets exactly one flood entry per remote host of each segment, and none to itself", () => {
    expect(floodLines(lab, "h1")).toEqual([
      "cn_flood netv-red 198.18.0.2 198.18.0.3",
      "cn_flood netv-green 198.18.0.2",
    ]);
    expect(floodLines(lab, "h3")).toEqual([
      "cn_flood netv-red 198.18.0.1 198.18.0.2",
    ]);
  });

  it("cn_flood converges the flood list in place: removes entries to hosts no longer listed, appends the missing, leaves the rest", () => {
    // A device whose flood list holds h2 (kept) and a host that left (198.18.0.9), and one learned (non-flood) entry.
    const calls = withStandInBridge([
      "00:00:00:00:00:00 dev netv-red dst 198.18.0.2 self permanent",
      "00:00:00:00:00:00 dev netv-red dst 198.18.0.9 self permanent",
      "52:54:00:00:00:01 dev netv-red dst 198.18.0.7 self",
    ], [...NETWORK_HELPERS, "cn_flood netv-red 198.18.0.2 198.18.0.3"]);
    expect(calls).toEqual([
      "fdb show dev netv-red",
      "fdb del 00:00:00:00:00:00 dev netv-red dst 198.18.0.9",
      // An entry that is there already is left alone: only the missing one is appended.
      "fdb append 00:00:00:00:00:00 dev netv-red dst 198.18.0.3",
    ]);
  });

  it("creates the VXLAN device with the segment's VNI and MTU, local to the host's underlay address, learning nothing from the wire", () => {
    const apply = renderHostNetwork(lab, lab.hosts[1], [])!.apply;
    expect(apply).toContain("if cn_link_missing netv-red; then cn_vni_free netv-red 5001 net; ip link add netv-red mtu 1450 type vxlan id 5001 local 198.18.0.2 dstport 4789 nolearning; fi");
    expect(apply).toContain("if cn_link_missing netb-red; then ip link add netb-red mtu 1450 type bridge; fi");
    expect(apply).toContain("ip link set dev netv-red mtu 1450 master netb-red up");
    expect(apply).toContain("bridge link set dev netv-red learning off");
    // A device made for another VNI or underlay address, or a learning one, is made again.
    expect(apply).toContain("if ! cn_link_missing netv-red && ! cn_vxlan_is netv-red 5001 198.18.0.2; then ip link del dev netv-red; fi");
  });

  it("L2 population: the tunnel and the bridge are told where each of the segment's remote MACs lives, and nothing else", () => {
    const mac = (g: string) => lab.guests.find((x) => x.name === g)!.nics[0].mac.toString();
    const lines = renderHostNetwork(lab, lab.hosts[1], [])!.apply.split("\n").filter((l) => l.startsWith("cn_l2pop "));
    // h2's red: a lives on h1, c on h3 (b is h2's own); green has no guest anywhere else.
    const remote = [{ mac: mac("a"), at: "198.18.0.1" }, { mac: mac("c"), at: "198.18.0.3" }].sort((x, y) => x.mac.localeCompare(y.mac));
    expect(lines).toEqual([
      ["cn_l2pop netv-red", ...remote.map((r) => `${r.mac}@${r.at}`)].join(" "),
      "cn_l2pop netv-green",
    ]);
  });

  it("cn_l2pop: one list becomes the device's entries (MAC to host) and the bridge port's (the same MACs, sticky); stale ones go", () => {
    // The port holds a MAC that moved away (…:09, both tables) and one that stays (…:01, both tables).
    const calls = withStandInBridge([
      "52:54:00:00:00:01 dev netv-red dst 198.18.0.1 self permanent",
      "52:54:00:00:00:09 dev netv-red dst 198.18.0.9 self permanent",
      "52:54:00:00:00:01 dev netv-red master netb-red static sticky",
      "52:54:00:00:00:09 dev netv-red master netb-red static sticky",
    ], [...BASE_HELPERS, ...NETWORK_HELPERS, "cn_l2pop netv-red 52:54:00:00:00:01@198.18.0.1 52:54:00:00:00:03@198.18.0.3"]);
    expect(calls).toEqual([
      "fdb show dev netv-red",
      "fdb del 52:54:00:00:00:09 dev netv-red dst 198.18.0.9 self",
      "fdb replace 52:54:00:00:00:03 dev netv-red dst 198.18.0.3 self permanent",
      "fdb show dev netv-red",
      "fdb del 52:54:00:00:00:09 dev netv-red master",
      "fdb replace 52:54:00:00:00:03 dev netv-red master static sticky",
    ]);
  });

  it("cn_vxlan_is: true only for the device with that VNI and local address that does not learn", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-unit-"));
    try {
      const show = (details: string) => fs.writeFileSync(path.join(dir, "ip"), [
        "#!/bin/sh",
        `[ "$*" = "-o -d link show dev netv-red" ] || exit 1`,
        `echo '7: netv-red: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master netb-red state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether 5e:1c:11:22:33:44 brd ff:ff:ff:ff:ff:ff promiscuity 1 allmulti 1 minmtu 68 maxmtu 65535 \\    ${details}'`,
        "",
      ].join("\n"), { mode: 0o755 });
      const is = (args: string) => runBash([...NETWORK_HELPERS, `if cn_vxlan_is ${args}; then echo yes; else echo no; fi`].join("\n"), { PATH: `${dir}:${process.env.PATH}` }).stdout;
      show("vxlan id 5001 local 198.18.0.2 dev eth0 srcport 0 0 dstport 4789 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ");
      expect(is("netv-red 5001 198.18.0.2")).toBe("yes\n");
      expect(is("netv-red 5002 198.18.0.2")).toBe("no\n");
      expect(is("netv-red 500 198.18.0.2")).toBe("no\n");
      expect(is("netv-red 5001 198.18.0.22")).toBe("no\n");
      expect(is("netv-blue 5001 198.18.0.2")).toBe("no\n");
      // An older version's device learns: it is not the one wanted.
      show("vxlan id 5001 local 198.18.0.2 dev eth0 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ");
      expect(is("netv-red 5001 198.18.0.2")).toBe("no\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("touches only the segments the host is on", () => {
    const apply = renderHostNetwork(lab, lab.hosts[2], [])!.apply;
    expect(apply).not.toContain("green");
    expect(renderHostNetwork(lab, lab.hosts[2], [])!.title).toBe("network on h3: red");
  });

  it("is absent for a host on no segment", () => {
    const alone = resolveOk(emulatedLab({ hosts: [host("h1")] }));
    expect(renderHostNetwork(alone, alone.hosts[0], [])).toBeUndefined();
  });
});
