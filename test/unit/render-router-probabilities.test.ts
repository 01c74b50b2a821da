import fc from "fast-check";
import { formatProbability, restorePayload, routerRules, statisticProbabilities } from "../../lib/render";
import { emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";
import { parseRestore, shares, trace } from "./support/iptables";
import { NAT, service } from "./support/tenant-specs";

/** kube-proxy's weighted random choice: the statistic probabilities and what they add up to. */

/** The share each backend ends up with: p_i times the chance that no earlier rule matched. */
function finalShares(p: readonly number[]): number[] {
  return p.map((pi, i) => pi * p.slice(0, i).reduce((left, pj) => left * (1 - pj), 1));
}

describe("statisticProbabilities", () => {
  it("1:1:2 gives 1/4, 1/3 and 1", () => {
    expect(statisticProbabilities([1, 1, 2])).toEqual([0.25, 1 / 3, 1]);
  });

  it("one backend takes everything", () => {
    expect(statisticProbabilities([7])).toEqual([1]);
  });

  it("for random positive weights, the final shares are w_i / sum(w) within 1e-9, and the last probability is 1", () => {
    const weights = fc.array(fc.double({ min: 1e-3, max: 1e3, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 12 });
    fc.assert(fc.property(weights, (w) => {
      const p = statisticProbabilities(w);
      const total = w.reduce((a, b) => a + b, 0);
      expect(p).toHaveLength(w.length);
      expect(p[p.length - 1]).toBe(1);
      finalShares(p).forEach((share, i) => expect(Math.abs(share - w[i] / total)).toBeLessThan(1e-9));
      for (const pi of p) expect(pi > 0 && pi <= 1).toBe(true);
    }), { numRuns: 300 });
  });
});

describe("formatProbability", () => {
  it.each([
    [0.25, "0.2500000000"],
    [1 / 3, "0.3333333333"],
    [2 / 3, "0.6666666667"],
    [1, "1.0000000000"],
    [0.1, "0.1000000000"],
  ])("%d -> %s (ten decimals, as kube-proxy)", (p, text) => {
    expect(formatProbability(p)).toBe(text);
  });
});

describe("rendered service chains split connections by weight", () => {
  // Rendered, parsed back and traced: the probabilities as written (ten decimals) still give w_i / sum(w).
  const weights = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 });

  it("for random integer weights, a new connection to the VIP reaches backend i with probability w_i / sum(w)", () => {
    fc.assert(fc.property(weights, (w) => {
      const names = w.map((_, i) => `b${i}`);
      const lab = resolveOk(emulatedLab({
        hosts: [host("h1")],
        segments: [segment("web", "10.1.0.0/24", { mode: NAT })],
        guests: names.map((n, i) => guest(n, "h1", [{ segment: "web", address: `10.1.0.${20 + i}` }])),
        services: [service("api", "web", names, { backends: names.map((n, i) => ({ guest: n, port: 8080, weight: w[i] })) })],
      }));
      const tables = parseRestore(restorePayload(routerRules(lab, lab.segments[0])));
      const got = shares(trace(tables, "nat", "CN-lab-DNAT", { src: "10.1.0.99", dst: "10.96.0.10", proto: "tcp", dport: 80 }));
      const total = w.reduce((a, b) => a + b, 0);
      const want = Object.fromEntries(names.map((_, i) => [`DNAT --to-destination 10.1.0.${20 + i}:8080`, 0]));
      w.forEach((wi, i) => { want[`DNAT --to-destination 10.1.0.${20 + i}:8080`] += wi / total; });
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [k, v] of Object.entries(want)) expect(Math.abs(got[k] - v)).toBeLessThan(1e-9);
    }), { numRuns: 60 });
  });
});
