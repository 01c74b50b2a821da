import { renderLab } from "../../lib/render";
import { Deployment, runStage } from "../support/apply";
import { fullState } from "../support/kernel-state";
import { cleanupPrefix, netnsWithPrefix, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { convergeLab } from "./fixtures/converge-lab";

/**
 * Applying every stage a second time changes no kernel state in any namespace the lab touches:
 * rules of both families, ipsets, nftables, links, addresses, routes, forwarding entries, sysctls
 * and the lab's files. The lab uses every kind of object: a router with NAT, a floating IP and a
 * service, security groups over IPv4 and IPv6, an external, an isolated second network.
 */
const p = uniquePrefix("i");

/** The state once IPv6 duplicate address detection and the like are done: two reads a second apart agree. */
function settled(namespaces: readonly string[]): string {
  let last = fullState(namespaces);
  for (let i = 0; i < 15; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    const now = fullState(namespaces);
    if (now === last) return now;
    last = now;
  }
  throw new Error("the lab's state did not settle within 15 s");
}

describe("idempotency (kernel)", () => {
  const lab = convergeLab(p, {
    guests: { g1: "h1", g2: "h2", g3: "h2", g4: "h3" }, isolated: ["g2", "g4"], external: true,
    webGroup: ["g2", "g3"], webPorts: [7000], floating: "g1", service: ["g2", "g3"], ipv6: true,
  });
  const d = new Deployment();
  beforeAll(() => {
    requireRoot();
    d.deploy(lab);
  }, 120_000);
  afterAll(() => {
    try { d.destroy(); } finally { cleanupPrefix(p); }
  });

  test("every stage applied again, in order: every namespace the same, byte for byte", () => {
    const namespaces = netnsWithPrefix(p);
    expect(namespaces.length).toBeGreaterThanOrEqual(10);
    const before = settled(namespaces);
    for (const s of renderLab(lab)) expect({ stage: s.id, status: runStage(lab, s, "apply").status }).toEqual({ stage: s.id, status: 0 });
    expect(netnsWithPrefix(p)).toEqual(namespaces);
    expect(fullState(namespaces)).toEqual(before);
  });
});
