import { ResolvedLab, formatIssues } from "../../lib/model";
import { applyAll } from "../support/apply";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { TWO_TIER_ADDRESS, TWO_TIER_PORTS, securityLab, twoTierMatrix } from "./fixtures/security-lab";

/**
 * Security groups on a network carried by Open vSwitch: the same two-tier matrix as on Linux bridges,
 * with web1 on h1 and web2, db1 on h2, so both the cross-host (tunnel) and the same-host paths are tried.
 */
const p = uniquePrefix("q");
const r = securityLab(p, undefined, { overlay: true }).resolve();
if (!r.lab) throw new Error(formatIssues(r.issues));
const lab: ResolvedLab = r.lab;
const ns = (node: string) => `${p}-${node}`;

describe("security groups on an overlay network (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    applyAll(lab);
    for (const g of Object.keys(TWO_TIER_ADDRESS)) for (const port of TWO_TIER_PORTS) await startServer(ns(g), port, g);
  }, 120_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("every (source, destination, port) of the two-tier case matches the expected table", () => {
    const table = twoTierMatrix((src, address, port) => connect(ns(src), address, port, { timeoutMs: 700 }));
    expect(table.filter((l) => l.includes("<--"))).toEqual([]);
    expect(table.some((l) => l.endsWith(" open"))).toBe(true);
    expect(table.some((l) => l.endsWith(" closed"))).toBe(true);
  }, 120_000);

  test("an ARP request for a local guest is left to the guest: the integration bridge keeps its MAC on its own port", () => {
    // The router on h1 asks for web1 (local to h1). Were the tunnel bridge to answer, the integration
    // bridge would learn web1's MAC behind the patch port and drop what the tunnels bring for web1.
    const h1 = lab.hosts.find((h) => h.name === "h1")!;
    const cluster = lab.clusters[0];
    const segment = lab.segments.find((s) => s.cluster === cluster.name)!;
    const web1Mac = lab.guests.find((g) => g.name === "web1")!.nics[0].mac.toString();
    const appctl = (...args: string[]) => run("ovs-appctl", ["-t", `${h1.ovsRunDir}/ovs-vswitchd.ctl`, ...args]);
    const ofport = (name: string) => run("ovs-vsctl", [`--db=unix:${h1.ovsRunDir}/db.sock`, "get", "interface", name, "ofport"]).trim();
    const router = `${p}-rt.${segment.name}.h1`;
    nsExec(router, "ip", ["neigh", "flush", "all"]);
    expect(connect(router, TWO_TIER_ADDRESS.web1, 8080)).toMatch(/^web1 /);
    expect(nsExec(router, "ip", ["neigh", "show", TWO_TIER_ADDRESS.web1]).stdout).toContain(web1Mac);
    const entry = appctl("fdb/show", cluster.integrationBridge).split("\n").find((l) => l.includes(web1Mac));
    expect(entry?.trim().split(/\s+/)[0]).toBe(ofport(segment.ovsPort!));
    // And db1 on h2 reaches web1 across the tunnel at once.
    expect(connect(ns("db1"), TWO_TIER_ADDRESS.web1, 8080, { timeoutMs: 700 })).toMatch(/^web1 /);
  });
});
