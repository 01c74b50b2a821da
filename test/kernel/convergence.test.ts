import fc from "fast-check";
import { Stage, renderLab } from "../../lib/render";
import { Deployment } from "../support/apply";
import { comparable, declaredObjects, filesUnder, liveObjects } from "../support/live-objects";
import { cleanupPrefix, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { ConvergeVariant, convergeLab } from "./fixtures/converge-lab";

/**
 * Removal by convergence, deployed the way Terraform deploys (a stage removed from the code is
 * dropped without running anything): whatever is taken out of the lab goes from every host, and
 * destroy leaves nothing of the lab on the machine.
 */
const p = uniquePrefix("v");
const ns = (node: string) => `${p}-${node}`;

describe("convergence (kernel)", () => {
  beforeAll(() => requireRoot());
  afterEach(() => stopServers());
  afterAll(() => cleanupPrefix(p));

  test("a guest, an external and the last security group taken out: all they had is gone, and the guest left is no longer filtered", async () => {
    const d = new Deployment();
    const full: ConvergeVariant = { guests: { g1: "h1", g2: "h2", g3: "h2" }, external: true, webGroup: ["g2", "g3"], ipv6: true };
    const less: ConvergeVariant = { guests: { g1: "h1", g2: "h2" }, ipv6: true };
    try {
      const fullLab = convergeLab(p, full);
      d.deploy(fullLab);
      await startServer(ns("g2"), 8080, "g2");
      await startServer(ns("g2"), 9000, "g2-9000");
      // Filtered: 8080 allowed by the group (the probe works), 9000 not.
      expect(connect(ns("g1"), "10.0.0.12", 8080)).toBe("g2 10.0.0.11");
      expect(connect(ns("g1"), "10.0.0.12", 9000, { timeoutMs: 800 })).toBe("fail");
      const before = liveObjects(p, p);
      expect(before).toEqual(expect.arrayContaining([`netns ${ns("g3")}`, `netns ${ns("internet")}`, `ipset ${ns("h2")} cn-${p}-web-4`, `nft ${ns("h2")} table bridge cn_${p}`]));

      d.deploy(convergeLab(p, less));
      const after = liveObjects(p, p);
      const gone = before.filter((o) => !after.includes(o));
      for (const o of [`netns ${ns("g3")}`, `netns ${ns("internet")}`, `link ${ns("h2")} ${fullLab.guests[2].nics[0].hostDev}`, `link ${ns("fabric")} ${fullLab.externals[0].fabricPort}`,
        `ipset ${ns("h2")} cn-${p}-web-4`, `ipset ${ns("h2")} cn-${p}-web-6`, `nft ${ns("h2")} table bridge cn_${p}`,
        `chain ${ns("h2")} v4 filter CN-${p}-SG`, `chain ${ns("h2")} v6 filter CN-${p}-SG`, `chain ${ns("h2")} v4 filter CN-${p}-I-g2-0`]) {
        expect(gone).toContain(o);
      }
      // On h2 only the host guard is left of the lab's rules (no group's chain, set or table), and its bridge is no longer filtered.
      const guard = ["FWD", "IN", "ZONE"].map((c) => `CN-${p}-${c}`);
      const leftOnH2 = after.filter((o) => o.includes(ns("h2")) && /chain|hook|ipset|nft/.test(o));
      expect(leftOnH2.filter((o) => !guard.some((c) => o.endsWith(` ${c}`) || o.endsWith(` -j ${c}`)))).toEqual([]);
      expect(leftOnH2).toHaveLength(12);
      expect(run("ip", ["-n", ns("h2"), "-d", "link", "show", fullLab.segments[0].bridge])).toMatch(/nf_call_iptables 0 nf_call_ip6tables 0/);
      expect(filesUnder("/run/cloudnet").filter((f) => f.includes(`${ns("h2")}/`))).toEqual([]);
      // The guest left is reachable on any port now, and still on the allowed one.
      expect(connect(ns("g1"), "10.0.0.12", 9000)).toBe("g2-9000 10.0.0.11");
      expect(connect(ns("g1"), "10.0.0.12", 8080)).toBe("g2 10.0.0.11");
      // Exactly what a fresh deploy of the smaller lab has, rule for rule.
      const converged = liveObjects(p, p, { rules: true });
      d.destroy();
      d.deploy(convergeLab(p, less));
      expect(converged).toEqual(liveObjects(p, p, { rules: true }));
    } finally {
      d.destroy();
    }
    expect(liveObjects(p, p)).toEqual([]);
    expect(filesUnder("/run/cloudnet").filter((f) => f.includes(p))).toEqual([]);
  }, 180_000);

  test("a new library version (every script different) redeploys without taking anything down", async () => {
    const d = new Deployment();
    const v: ConvergeVariant = { guests: { g1: "h1", g2: "h2" }, external: true, webGroup: ["g2"], floating: "g1", service: ["g2"] };
    try {
      d.deploy(convergeLab(p, v));
      await startServer(ns("g2"), 8080, "g2");
      const before = liveObjects(p, p, { rules: true });
      const upgrade = (s: Stage): Stage => ({ ...s, apply: `${s.apply}# version 2\n`, teardown: `${s.teardown}# version 2\n` });
      d.deploy(convergeLab(p, v), upgrade);
      // Everything but the owners was re-applied; the owners kept their place (and took the new teardown).
      expect(d.applied).not.toContain("fabric");
      expect(d.applied.filter((id) => id.startsWith("owner/"))).toEqual([]);
      expect(d.applied).toEqual(expect.arrayContaining(["network/h1", "guest/g1", "converge"]));
      expect(liveObjects(p, p, { rules: true })).toEqual(before);
      expect(connect(ns("g1"), "10.0.0.12", 8080)).toBe("g2 10.0.0.11");
    } finally {
      d.destroy();
    }
    expect(liveObjects(p, p)).toEqual([]);
  }, 180_000);

  test("a random sequence of edits (hosts and externals renumbered, VNI, subnet, gateway, groups, IPv6...): after each deploy the live objects are the declared ones, and the last state is a fresh deploy's", () => {
    const names = ["g1", "g2", "g3", "g4"] as const;
    const hostOf = fc.constantFrom("h1" as const, "h2" as const, "h3" as const);
    const variant: fc.Arbitrary<ConvergeVariant> = fc.record({
      hostList: fc.shuffledSubarray(["h1", "h2", "h3"] as const, { minLength: 1 }),
      placed: fc.tuple(...names.map(() => fc.option(hostOf, { nil: undefined }))),
      admin: fc.boolean(),
      net: fc.constantFrom(0, 5),
      vni: fc.constantFrom(undefined, 5001, 5002),
      isolated: fc.subarray([...names]),
      external: fc.boolean(),
      webGroup: fc.option(fc.subarray([...names]), { nil: undefined }),
      floating: fc.option(fc.constantFrom(...names), { nil: undefined }),
      service: fc.option(fc.subarray([...names], { minLength: 1 }), { nil: undefined }),
      ipv6: fc.boolean(),
      gatewayPick: fc.nat(2),
    }).map((r) => {
      const guests: Record<string, "h1" | "h2" | "h3"> = {};
      // Guests go to the hosts the version has (a missing one's guests move to the first).
      const on = (h: "h1" | "h2" | "h3") => (r.hostList.includes(h) ? h : r.hostList[0]);
      names.forEach((g, i) => { if (r.placed[i]) guests[g] = on(r.placed[i]!); });
      if (Object.keys(guests).length === 0) guests.g1 = r.hostList[0];
      const present = (xs?: readonly string[]) => xs?.filter((g) => g in guests);
      const hosts = [...new Set(Object.values(guests))].sort();
      return {
        guests, isolated: present(r.isolated), external: r.external, webGroup: present(r.webGroup),
        floating: r.floating && r.floating in guests ? r.floating : undefined,
        service: present(r.service)?.length ? present(r.service) : undefined,
        ipv6: r.ipv6, gateway: hosts[r.gatewayPick % hosts.length],
        hosts: r.hostList, admin: r.admin, net: r.net, vni: r.vni,
      };
    });
    const d = new Deployment();
    let steps = 0;
    try {
      fc.assert(fc.property(fc.array(variant, { minLength: 24, maxLength: 24 }), (versions) => {
        for (const v of versions) {
          const lab = convergeLab(p, v);
          try {
            d.deploy(lab);
          } catch (e) {
            throw new Error(`step ${steps + 1}, deploying ${JSON.stringify(v)} after ${JSON.stringify(versions.slice(0, steps))}: ${(e as Error).message}`);
          }
          steps++;
          expect({ step: steps, version: v, live: comparable(liveObjects(p, p), lab) }).toEqual({ step: steps, version: v, live: declaredObjects(lab, renderLab(lab)) });
        }
        const last = convergeLab(p, versions[versions.length - 1]);
        const converged = liveObjects(p, p, { rules: true });
        d.destroy();
        d.deploy(last);
        expect(converged).toEqual(liveObjects(p, p, { rules: true }));
      }), { numRuns: 1, endOnFailure: true });
    } finally {
      d.destroy();
    }
    expect(liveObjects(p, p)).toEqual([]);
    expect(steps).toBe(24);
  }, 600_000);
});
