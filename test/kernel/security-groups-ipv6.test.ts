import { ResolvedLab, formatIssues } from "../../lib/model";
import { renderLab } from "../../lib/render";
import { runStage } from "../support/apply";
import { cleanupPrefix, nsExec, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { securityLabV6 } from "./fixtures/security-lab-v6";

/** Security groups in ip6tables: IPv6 rules and IPv6 member sets, with neighbour discovery working. */
const p = uniquePrefix("v");
const r = securityLabV6(p).resolve();
if (!r.lab) throw new Error(formatIssues(r.issues));
const lab: ResolvedLab = r.lab;
const ns = (node: string) => `${p}-${node}`;

describe("security groups over IPv6 (kernel)", () => {
  beforeAll(async () => {
    requireRoot();
    for (const s of renderLab(lab)) {
      const x = runStage(lab, s, "apply");
      if (x.status !== 0) throw new Error(`apply of ${s.id} failed:\n${x.output}`);
    }
    for (const g of ["web1", "web2", "db1"]) for (const port of [8080, 3306]) await startServer(ns(g), port, g);
  }, 120_000);

  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test("IPv6 ingress rules: web takes 8080 from anyone over IPv6, and ping6", () => {
    expect(connect(ns("other"), "fd00:40::11", 8080)).toBe("web1 fd00:40::31");
    expect(connect(ns("db1"), "fd00:40::12", 8080)).toBe("web2 fd00:40::21");
    expect(nsExec(ns("other"), "ping", ["-6", "-c", "1", "-W", "2", "fd00:40::12"]).status).toBe(0);
  });

  test("IPv6 default deny: other ports and other ICMPv6 are closed", () => {
    // Controls: the same client reaches the allowed port, the listener answers on the closed one locally, the ping probe works.
    expect(connect(ns("other"), "fd00:40::11", 8080)).toBe("web1 fd00:40::31");
    expect(connect(ns("web1"), "fd00:40::11", 3306)).toBe("web1 fd00:40::11");
    expect(connect(ns("other"), "fd00:40::11", 3306, { timeoutMs: 700 })).toBe("fail");
    expect(nsExec(ns("other"), "ping", ["-6", "-c", "1", "-W", "2", "fd00:40::12"]).status).toBe(0);
    expect(nsExec(ns("other"), "ping", ["-6", "-c", "1", "-W", "1", "fd00:40::21"]).status).not.toBe(0);
  });

  test("a group peer matches members by their IPv6 addresses too", () => {
    expect(connect(ns("web1"), "fd00:40::21", 3306)).toBe("db1 fd00:40::11");
    expect(connect(ns("other"), "fd00:40::21", 3306, { timeoutMs: 700 })).toBe("fail");
  });

  test("the IPv4 side of the same groups holds: web's IPv6-only rules open nothing over IPv4", () => {
    // Controls: web1's listener answers over IPv4, and the same client reaches it over IPv6.
    expect(connect(ns("web1"), "10.40.0.11", 8080)).toBe("web1 10.40.0.11");
    expect(connect(ns("other"), "fd00:40::11", 8080)).toBe("web1 fd00:40::31");
    expect(connect(ns("other"), "10.40.0.11", 8080, { timeoutMs: 700 })).toBe("fail");
    expect(connect(ns("web1"), "10.40.0.21", 3306)).toBe("db1 10.40.0.11");
  });
});
