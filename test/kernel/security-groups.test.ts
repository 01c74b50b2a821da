import { ResolvedLab, formatIssues } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
import { runStage } from "../support/apply";
import { rulesView } from "../support/kernel-state";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, holdConnection, probe, startEchoServer, startServer, stopServers } from "../support/tcp";
import { dockerHost, forwardPolicies } from "./fixtures/docker-host";
import { TWO_TIER_ADDRESS, TWO_TIER_PORTS, securityLab, twoTierMatrix } from "./fixtures/security-lab";

/**
 * Security groups on a real kernel, with real TCP connects: the two-tier case tried pair by pair,
 * filtering between guests on one bridge, spoofed sources dropped, a rule change applied under an
 * open connection and a prober, and foreign chains left byte for byte; on hosts set up as Docker
 * sets them up (FORWARD policy DROP, Docker's chains), so every allowed flow is one the lab's own
 * chains accept.
 */
const p = uniquePrefix("s");
function resolved(extraWebPort?: number): ResolvedLab {
  const r = securityLab(p, extraWebPort).resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}
const lab = resolved();
const stages = renderLab(lab);
const ns = (node: string) => `${p}-${node}`;
const isProvisioning = (s: Stage) => s.id === "helpers" || s.id === "fabric" || s.id.startsWith("host/");

function apply(l: ResolvedLab, s: Stage): void {
  const r = runStage(l, s, "apply");
  if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
}

const ADDRESS = TWO_TIER_ADDRESS;
const PORTS = TWO_TIER_PORTS;

const dockerUser = () => run("ip", ["netns", "exec", ns("h2"), "iptables", "-S", "DOCKER-USER"]);
let dockerUserBefore = "";
/** Every rule and chain on every host that is not the lab's, both families, as iptables-save lists them. */
const foreignRules = () => ["h1", "h2"].flatMap((h) => ["iptables-save", "ip6tables-save"].map((save) =>
  `${h} ${save}\n${rulesView(nsExec(ns(h), save).stdout.split("\n").filter((l) => !l.includes(`CN-${p}-`)).join("\n"))}`)).join("\n");
let foreignBefore = "";

describe("security groups (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    stages.filter(isProvisioning).forEach((s) => apply(lab, s));
    // Both hosts are Docker hosts before the lab's rules come: FORWARD policy DROP in both families,
    // Docker 28's chains on h1 (the gateway) and Docker 27's on h2, and docker0. Allowed flows must
    // pass all the same (accepted by the lab's own chains), forbidden ones not.
    dockerHost(ns("h1"), 28);
    dockerHost(ns("h2"), 27);
    // A foreign IPv6 rule of the host's own.
    run("ip", ["netns", "exec", ns("h2"), "ip6tables", "-I", "DOCKER-USER", "-s", "2001:db8::/32", "-j", "RETURN"]);
    expect([forwardPolicies(ns("h1")), forwardPolicies(ns("h2"))]).toEqual(["DROP DROP", "DROP DROP"]);
    dockerUserBefore = dockerUser();
    foreignBefore = foreignRules();
    stages.filter((s) => !isProvisioning(s)).forEach((s) => apply(lab, s));
    for (const g of Object.keys(ADDRESS)) for (const port of PORTS) await startServer(ns(g), port, g);
    await startEchoServer(ns("web1"), 9000);
  }, 120_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("every (source, destination, port) of the two-tier case matches the expected table", () => {
    const table = twoTierMatrix((src, address, port) => connect(ns(src), address, port, { timeoutMs: 700 }));
    expect(table.filter((l) => l.includes("<--"))).toEqual([]);
    // The matrix is not vacuous: both verdicts occur.
    expect(table.some((l) => l.endsWith(" open"))).toBe(true);
    expect(table.some((l) => l.endsWith(" closed"))).toBe(true);
  }, 120_000);

  test("two guests on the same bridge in different groups are filtered too", () => {
    expect(run("ip", ["-n", ns("h2"), "-br", "link", "show", "master", lab.segments[0].bridge])).toContain(`${p}t-web2-0`);
    expect(run("ip", ["-n", ns("h2"), "-br", "link", "show", "master", lab.segments[0].bridge])).toContain(`${p}t-db1-0`);
    expect(connect(ns("web2"), ADDRESS.db1, 3306)).toBe("db1 10.20.0.12");
    expect(connect(ns("web2"), ADDRESS.db1, 22, { timeoutMs: 700 })).toBe("fail");
  });

  /** After a spoofing attempt the neighbours' ARP entries may be FAILED: start clean. */
  const flushNeighbours = () => ["web1", "web2"].forEach((g) => run("ip", ["-n", ns(g), "neigh", "flush", "all"]));

  /**
   * SYNs from web1 to web2 counted where they would arrive (a counting rule in web2's raw table), per
   * source address. web1 knows web2's MAC statically, so no ARP is needed and the ARP guard plays no
   * part: what is tested is the IP anti-spoofing of web1's port.
   */
  function synsArriving(from: string, spoofed: string[]): Record<string, number> {
    const web2 = ns("web2");
    const mac = run("ip", ["-n", web2, "-br", "link", "show", "eth0"]).split(/\s+/)[2];
    const sources = [ADDRESS.web1, ...spoofed];
    for (const src of sources) run("ip", ["netns", "exec", web2, "iptables", "-t", "raw", "-A", "PREROUTING", "-s", `${src}/32`, "-p", "tcp", "--syn"]);
    run("ip", ["-n", ns(from), "neigh", "replace", ADDRESS.web2, "lladdr", mac, "dev", "eth0", "nud", "permanent"]);
    try {
      for (const src of spoofed) {
        run("ip", ["-n", ns(from), "addr", "add", `${src}/32`, "dev", "eth0"]);
        try {
          expect(connect(ns(from), ADDRESS.web2, 8080, { timeoutMs: 500, localAddress: src })).toBe("fail");
        } finally {
          run("ip", ["-n", ns(from), "addr", "del", `${src}/32`, "dev", "eth0"]);
        }
      }
      // The control: web1's own address, through the same path, arrives.
      expect(connect(ns(from), ADDRESS.web2, 8080)).toBe("web2 10.20.0.11");
      const counts: Record<string, number> = {};
      for (const line of run("ip", ["netns", "exec", web2, "iptables-save", "-c", "-t", "raw"]).split("\n")) {
        const m = /^\[(\d+):\d+\] -A PREROUTING -s (\S+)\/32 /.exec(line);
        if (m) counts[m[2]] = Number(m[1]);
      }
      return counts;
    } finally {
      run("ip", ["netns", "exec", web2, "iptables", "-t", "raw", "-F", "PREROUTING"]);
      run("ip", ["-n", ns(from), "neigh", "del", ADDRESS.web2, "dev", "eth0"]);
      flushNeighbours();
    }
  }

  test("a spoofed source address from a guest is dropped, inside its subnet and outside it (the ARP guard bypassed)", () => {
    const counts = synsArriving("web1", ["10.20.0.99", "192.0.2.99"]);
    expect(counts[ADDRESS.web1]).toBeGreaterThan(0);
    expect(counts["10.20.0.99"]).toBe(0);
    expect(counts["192.0.2.99"]).toBe(0);
  });

  test("a spoofed source MAC from a guest is dropped", () => {
    const mac = run("ip", ["-n", ns("web1"), "-br", "link", "show", "eth0"]).split(/\s+/)[2];
    run("ip", ["-n", ns("web1"), "link", "set", "eth0", "address", "52:54:00:de:ad:01"]);
    try {
      flushNeighbours();
      expect(connect(ns("web1"), ADDRESS.web2, 8080, { timeoutMs: 700 })).toBe("fail");
    } finally {
      run("ip", ["-n", ns("web1"), "link", "set", "eth0", "address", mac]);
      flushNeighbours();
    }
    expect(connect(ns("web1"), ADDRESS.web2, 8080)).toBe("web2 10.20.0.11");
  });

  test("changing a rule and re-applying keeps an established connection, and lets no forbidden packet through", async () => {
    // The echo port 9000 is closed until the changed rules open it.
    expect(await holdConnection(ns("admin"), ADDRESS.web1, 9000).catch(() => "refused")).toBe("refused");
    const changed = resolved(9000);
    const rules = (l: ResolvedLab) => renderLab(l).filter((s) => s.id === "firewall/h1")[0];
    apply(changed, rules(changed));
    const conn = await holdConnection(ns("admin"), ADDRESS.web1, 9000);
    // Now the forbidden port 22 from the outsider is probed while the rules are applied back and forth.
    const prober = probe(ns("outsider"), ADDRESS.web1, 22, 3000);
    for (let i = 0; i < 6; i++) {
      apply(lab, rules(lab));
      apply(changed, rules(changed));
    }
    const result = await prober;
    expect(result.tried).toBeGreaterThan(5);
    expect(result.passed).toBe(0);
    const before = conn.lines().filter((l) => l === "ok").length;
    await new Promise((r) => setTimeout(r, 300));
    expect(conn.lines()).not.toContain("broken");
    expect(conn.lines().filter((l) => l === "ok").length).toBeGreaterThan(before);
  }, 60_000);

  test("foreign rules survive: everything that is not the lab's, on every host and in both families, is byte-identical after deploy and after destroy", () => {
    expect(foreignRules()).toBe(foreignBefore);
    expect(dockerUser()).toBe(dockerUserBefore);
    for (const s of [...stages].reverse().filter((x) => !isProvisioning(x))) {
      expect({ stage: s.id, status: runStage(lab, s, "teardown").status }).toEqual({ stage: s.id, status: 0 });
    }
    expect(dockerUser()).toBe(dockerUserBefore);
    expect(foreignRules()).toBe(foreignBefore);
    expect(run("ip", ["netns", "exec", ns("h2"), "iptables-save"])).not.toContain(`CN-${p}-`);
    expect(run("ip", ["netns", "exec", ns("h2"), "ipset", "list", "-n"])).not.toContain(`cn-${p}-`);
    expect(nsExec(ns("h2"), "nft", ["list", "table", "bridge", `cn_${p}`]).status).not.toBe(0);
  });
});
