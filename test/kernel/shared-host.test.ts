import { ResolvedLab } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { Deployment, runStage } from "../support/apply";
import { liveObjects } from "../support/live-objects";
import { rulesView } from "../support/kernel-state";
import { cleanupPrefix, nsExec, run, tryRun, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { convergeLab } from "./fixtures/converge-lab";

/**
 * Two labs on one host, as on a shared real machine, with other tools' state there first: lab B's
 * host stages run inside lab A's host namespaces. Each lab's side effects are its own and undone by
 * its own teardown: host-wide switches are never changed (forwarding is per interface, bridges are
 * filtered per bridge), a route someone else owns is refused rather than replaced, router links never
 * share addresses, and removing one lab leaves the other and the foreign state byte for byte.
 */
const a = uniquePrefix("a");
const b = uniquePrefix("b");
const nsA = (n: string) => `${a}-${n}`;

/** Lab B placed on lab A's hosts: its host stages run in A's host namespaces (the machine's "real" hosts). */
function onHostsOf(lab: ResolvedLab, hosts: ResolvedLab): ResolvedLab {
  return { ...lab, hosts: lab.hosts.map((h) => ({ ...h, netns: hosts.hosts.find((x) => x.name === h.name)!.netns })) };
}

const HOST_WIDE = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.forwarding",
  "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables", "net.bridge.bridge-nf-call-arptables"];
const sysctls = (ns: string) => nsExec(ns, "sysctl", HOST_WIDE).stdout;
const uplinkForwarding = (ns: string) => nsExec(ns, "sysctl", ["-n", "net.ipv4.conf.eth0.forwarding"]).stdout.trim();
/** A foreign bridge and rule on h1, as Docker leaves them. */
const foreign = (ns: string) => [
  run("ip", ["-n", ns, "-d", "link", "show", "docker0"]).replace(/(\w+_timer)\s+[\d.]+/g, "$1"),
  run("ip", ["-n", ns, "route", "show", "exact", "172.17.0.0/16"]),
  ...["iptables-save", "ip6tables-save"].map((save) => rulesView(nsExec(ns, save).stdout.split("\n").filter((l) => !l.includes(`CN-${a}-`) && !l.includes(`CN-${b}-`)).join("\n"))),
].join("\n");

describe("two labs on one host (kernel)", () => {
  const labA = convergeLab(a, { guests: { g1: "h1", g2: "h2" }, external: true, webGroup: ["g2"], gateway: "h1" });
  const dA = new Deployment();
  const dB = new Deployment();
  let defaults = "";
  beforeAll(async () => {
    requireRoot();
    // What a new namespace has: the lab must leave h1's host-wide switches exactly so.
    run("ip", ["netns", "add", `${a}-scratch`]);
    defaults = sysctls(`${a}-scratch`);
    run("ip", ["netns", "del", `${a}-scratch`]);
    dA.deploy(labA);
    const h1 = nsA("h1");
    run("ip", ["-n", h1, "link", "add", "docker0", "type", "bridge"]);
    run("ip", ["-n", h1, "addr", "add", "172.17.0.1/16", "dev", "docker0"]);
    run("ip", ["netns", "exec", h1, "iptables", "-N", "DOCKER-USER"]);
    run("ip", ["netns", "exec", h1, "iptables", "-A", "FORWARD", "-j", "DOCKER-USER"]);
    await startServer(nsA("internet"), 9000, "internet");
  }, 120_000);
  afterAll(() => {
    stopServers();
    try { dB.destroy(); } finally { try { dA.destroy(); } finally { cleanupPrefix(a); cleanupPrefix(b); } }
  });

  test("lab A leaves h1's host-wide switches as a new namespace has them, and forwards on its uplink only", () => {
    expect(sysctls(nsA("h1"))).toEqual(defaults);
    expect(uplinkForwarding(nsA("h1"))).toBe("1");
    expect(run("ip", ["-n", nsA("h2"), "-d", "link", "show", labA.segments[0].bridge])).toMatch(/nf_call_iptables 1 nf_call_ip6tables 1/);
  });

  test("lab B with the same subnet is refused on h1, naming the route it will not replace; A's route stays", () => {
    const routeBefore = run("ip", ["-n", nsA("h1"), "route", "show", "exact", "10.0.0.0/24"]);
    const clash = onHostsOf(convergeLab(b, { guests: { g1: "h1" }, gateway: "h1", vni: 5001 }), labA);
    const net = renderLab(clash).find((s) => s.id === "network/h1")!;
    for (const s of renderLab(clash).filter((x) => x.id === "owner/h1")) expect(runStage(clash, s, "apply").status).toBe(0);
    const r = runStage(clash, net, "apply");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("refusing to replace the route to 10.0.0.0/24, which this lab did not add");
    expect(run("ip", ["-n", nsA("h1"), "route", "show", "exact", "10.0.0.0/24"])).toBe(routeBefore);
    // Clean up what the refused attempt put there, as B's owner would on destroy.
    expect(runStage(clash, renderLab(clash).find((s) => s.id === "owner/h1")!, "teardown").status).toBe(0);
    cleanupPrefix(b);
  });

  test("lab B beside A: its own router link addresses and NAT; removing B leaves A and the foreign state as they were", () => {
    const before = { a: liveObjects(a, a, { rules: true }), foreign: foreign(nsA("h1")) };
    const labB = onHostsOf(convergeLab(b, { guests: { g1: "h1", g2: "h2" }, webGroup: ["g1"], gateway: "h1", net: 2, vni: 5001 }), labA);
    // B's stages that would make the machine itself (fabric, hosts) are A's here.
    const machine = (id: string) => id === "fabric" || id.startsWith("host/");
    const stagesB = renderLab(labB).filter((s) => !machine(s.id));
    for (const s of stagesB) expect({ stage: s.id, status: runStage(labB, s, "apply").status }).toEqual({ stage: s.id, status: 0 });
    // Router links on one host never share an address.
    const linkAddr = (ns: string, dev: string) => run("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", dev]).split(/\s+/)[3];
    const aLink = linkAddr(nsA("h1"), labA.segments[0].gateway!.router.hostLink);
    const bLink = linkAddr(nsA("h1"), labB.segments[0].gateway!.router.hostLink);
    expect(aLink).toBe("169.254.0.1/30");
    expect(bLink).toBe("169.254.0.5/30");
    // Both labs' NAT works through the one host.
    expect(connect(nsA("g2"), "198.18.0.254", 9000)).toBe("internet 198.18.0.1");
    expect(connect(`${b}-g2`, "198.18.0.254", 9000)).toBe("internet 198.18.0.1");
    expect(sysctls(nsA("h1"))).toEqual(defaults);

    // B goes (its owners' teardowns, as cdktf destroy runs them): A and the foreign state are untouched.
    for (const s of [...stagesB].reverse()) expect({ stage: s.id, status: runStage(labB, s, "teardown").status }).toEqual({ stage: s.id, status: 0 });
    const fabricB = renderLab(labB).find((s) => s.id === "fabric")!;
    expect(runStage(labB, fabricB, "teardown").status).toBe(0);
    expect(liveObjects(b, b)).toEqual([]);
    expect(liveObjects(a, a, { rules: true })).toEqual(before.a);
    expect(foreign(nsA("h1"))).toEqual(before.foreign);
    expect(uplinkForwarding(nsA("h1"))).toBe("1");
    expect(connect(nsA("g2"), "198.18.0.254", 9000)).toBe("internet 198.18.0.1");
  });

  test("A's owner on h1 lets go: the uplink's forwarding is put back, the foreign state stays", () => {
    const before = foreign(nsA("h1"));
    const owner = renderLab(labA).find((s) => s.id === "owner/h1")!;
    expect(runStage(labA, owner, "teardown").status).toBe(0);
    expect(uplinkForwarding(nsA("h1"))).toBe("0");
    expect(foreign(nsA("h1"))).toEqual(before);
    expect(sysctls(nsA("h1"))).toEqual(defaults);
    expect(tryRun("ip", ["-n", nsA("h1"), "-o", "link", "show"]).stdout).not.toContain(`${a}b-`);
  });
});
