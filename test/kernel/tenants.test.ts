import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { runStage } from "../support/apply";
import { rulesIn, withoutTimers } from "../support/kernel-state";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, connectMany, startServer, stopServers } from "../support/tcp";
import { tenantLab } from "./fixtures/tenant-lab";

/**
 * Tenant networks on a real kernel: isolation between tenants sharing a subnet, NAT egress,
 * floating IPs, port forwards, a weighted service, Docker's network modes and sidecar
 * interception, and a teardown that leaves the hosts' foreign state as it was.
 */
const p = uniquePrefix("n");
const resolution = tenantLab(p).resolve();
if (!resolution.lab) throw new Error(formatIssues(resolution.issues));
const lab: ResolvedLab = resolution.lab;
const stages = renderLab(lab);
const ns = (node: string) => `${p}-${node}`;
const isProvisioning = (s: Stage) => s.id === "fabric" || s.id.startsWith("host/");

function apply(s: Stage): void {
  const r = runStage(lab, s, "apply");
  if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
}

/** Foreign state on h1 as a host's own tools would leave it; counters and dates left out. */
function foreignView(): string {
  return [rulesIn(ns("h1")), withoutTimers(run("ip", ["-n", ns("h1"), "-d", "link", "show"])), run("ip", ["-n", ns("h1"), "route"])].join("\n==\n");
}

let foreignBefore = "";

describe("tenant networks (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    stages.filter(isProvisioning).forEach(apply);
    // Another tool's state on h1 before the lab's: it must survive deploy and destroy byte for byte.
    const h1 = ns("h1");
    run("ip", ["netns", "exec", h1, "iptables", "-N", "DOCKER-USER"]);
    run("ip", ["netns", "exec", h1, "iptables", "-A", "DOCKER-USER", "-s", "192.0.2.0/24", "-j", "RETURN"]);
    run("ip", ["netns", "exec", h1, "iptables", "-A", "FORWARD", "-j", "DOCKER-USER"]);
    run("ip", ["netns", "exec", h1, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "-j", "MASQUERADE"]);
    run("ip", ["-n", h1, "link", "add", "docker0", "type", "bridge"]);
    run("ip", ["-n", h1, "addr", "add", "172.17.0.1/16", "dev", "docker0"]);
    foreignBefore = foreignView();
    stages.filter((s) => !isProvisioning(s)).forEach(apply);
    for (const g of ["a1", "a2", "a3", "m1", "g1", "g2"]) await startServer(ns(g), 8080, g);
    await startServer(ns("internet"), 9000, "internet");
    await startServer(ns("m1"), 15001, "mesh-out");
    await startServer(ns("m1"), 15006, "mesh-in");
  }, 120_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("each tenant's guests reach each other across hosts", () => {
    expect(connect(ns("a1"), "10.0.0.12", 8080)).toBe("a2 10.0.0.11");
    expect(connect(ns("a2"), "10.0.0.11", 8080)).toBe("a1 10.0.0.12");
    expect(connect(ns("g1"), "10.0.0.22", 8080)).toBe("g2 10.0.0.21");
    expect(connect(ns("g2"), "10.0.0.21", 8080)).toBe("g1 10.0.0.22");
  });

  test("no packet crosses between tenants that share a subnet (TCP and ping, both ways)", () => {
    for (const [from, to] of [["g1", "10.0.0.11"], ["g1", "10.0.0.12"], ["g2", "10.0.0.12"], ["a1", "10.0.0.21"], ["a2", "10.0.0.22"]]) {
      expect(connect(ns(from), to, 8080, { timeoutMs: 800 })).toBe("fail");
      expect(nsExec(ns(from), "ping", ["-c", "1", "-W", "1", to]).status).not.toBe(0);
    }
    // Not even through acme's gateway on h1, which globex's guests have no route to.
    expect(connect(ns("g1"), "10.0.0.1", 8080, { timeoutMs: 800 })).toBe("fail");
  });

  test("nat: a guest on the other host reaches the internet, which sees the gateway host's uplink address", () => {
    expect(connect(ns("a2"), "198.18.0.254", 9000)).toBe("internet 198.18.0.1");
  });

  test("a floating IP reaches its guest from outside, and the guest's own traffic leaves from it", () => {
    expect(connect(ns("internet"), "198.18.0.100", 8080)).toBe("a1 198.18.0.254");
    expect(connect(ns("a1"), "198.18.0.254", 9000)).toBe("internet 198.18.0.100");
  });

  test("a port forward on the gateway host reaches the guest", () => {
    expect(connect(ns("internet"), "198.18.0.1", 8081)).toBe("a2 198.18.0.254");
  });

  test("a 1:1:2 service splits 400 new connections within 7 points of 25/25/50 %", () => {
    const answers = connectMany(ns("c1"), "10.96.0.10", 80, 400).map((a) => a.split(" ")[0]);
    expect(answers).toHaveLength(400);
    const share = (name: string) => (100 * answers.filter((a) => a === name).length) / answers.length;
    expect(share("fail")).toBe(0);
    expect(Math.abs(share("a1") - 25)).toBeLessThanOrEqual(7);
    expect(Math.abs(share("a2") - 25)).toBeLessThanOrEqual(7);
    expect(Math.abs(share("a3") - 50)).toBeLessThanOrEqual(7);
  }, 120_000);

  test("the service's node port answers from outside", () => {
    expect(connect(ns("internet"), "198.18.0.1", 30080)).toMatch(/^a[123] /);
  });

  test("Docker modes: none has only lo, host shares the host's interfaces, container:a1 shares a1's", () => {
    const links = (netns: string) => run("ip", ["-n", netns, "-br", "link"]).split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0]).sort();
    const guest = (name: string) => lab.guests.find((g) => g.name === name)!;
    expect(links(guest("nonet").netns!)).toEqual(["lo"]);
    expect(guest("onhost").netns).toBe(ns("h1"));
    expect(links(guest("onhost").netns!)).toContain("eth0@if" + run("ip", ["-n", ns("h1"), "-o", "link", "show", "eth0"]).match(/@if(\d+)/)![1]);
    expect(guest("sidecar").netns).toBe(ns("a1"));
    expect(run("ip", ["-n", guest("sidecar").netns!, "-br", "addr"])).toContain("10.0.0.11/24");
  });

  test("sidecar interception: outbound and inbound TCP go to the proxy, except the proxy's own", () => {
    expect(connect(ns("m1"), "10.0.0.12", 8080)).toBe("mesh-out 10.0.0.15");
    expect(connect(ns("m1"), "10.0.0.12", 8080, { asUid: 1337 })).toBe("a2 10.0.0.15");
    expect(connect(ns("a2"), "10.0.0.15", 8080)).toBe("mesh-in 10.0.0.12");
  });

  test("applying every stage again changes no rule", () => {
    const rules = () => ["h1", "h2", "m1"].map((n) => run("ip", ["netns", "exec", ns(n), "iptables-save"]).split("\n").filter((l) => !l.startsWith("#")).join("\n").replace(/\[\d+:\d+\]/g, "")).join("\n");
    const before = rules();
    stages.filter((s) => !isProvisioning(s) && !s.id.startsWith("guest/")).forEach(apply);
    expect(rules()).toBe(before);
  });

  test("teardown leaves the hosts' foreign rules, bridges and routes exactly as they were", () => {
    for (const s of [...stages].reverse().filter((x) => !isProvisioning(x))) {
      const r = runStage(lab, s, "teardown");
      expect({ stage: s.id, status: r.status }).toEqual({ stage: s.id, status: 0 });
    }
    expect(foreignView()).toBe(foreignBefore);
  });
});
