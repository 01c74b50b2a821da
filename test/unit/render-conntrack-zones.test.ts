import { ResolvedLab } from "../../lib/model";
import { shortHash } from "../../lib/net";
import { conntrackZones } from "../../lib/render/host-guard";
import { emulatedLab, host, resolveOk, segment } from "./support/lab-specs";
import { NAT } from "./support/tenant-specs";

/** conntrackZones: one conntrack zone per segment, stable, distinct, in 1-65535. */

/** conntrackZones reads only the lab's prefix and its segments' names: a lab of just those. */
const labOf = (prefix: string, names: readonly string[]) => ({ prefix, segments: names.map((name) => ({ name })) }) as unknown as ResolvedLab;
/** The zone a segment would get without any collision. */
const home = (prefix: string, name: string) => 1 + (parseInt(shortHash(`${prefix}/${name}`, 8), 16) % 65535);

describe("conntrackZones", () => {
  const spec = () => emulatedLab({
    hosts: [host("h1"), host("h2")],
    segments: [
      segment("acme-web", "10.0.0.0/24", { tenant: "acme", mode: NAT, hosts: ["h1"] }),
      segment("globex-web", "10.0.0.0/24", { tenant: "globex", hosts: ["h1", "h2"] }),
      segment("acme-db", "10.0.1.0/24", { tenant: "acme", hosts: ["h2"] }),
    ],
  });

  it("gives each segment of a lab its own zone in 1-65535 (two tenants sharing a subnet on a host never share a table)", () => {
    const lab = resolveOk(spec());
    const zones = conntrackZones(lab);
    expect([...zones.keys()].sort()).toEqual(lab.segments.map((s) => s.name).sort());
    const values = [...zones.values()];
    expect(new Set(values).size).toBe(values.length);
    for (const z of values) expect(Number.isInteger(z) && z >= 1 && z <= 65535).toBe(true);
  });

  it("is stable: the same lab gets the same zones, whatever the order its segments are declared in", () => {
    const a = conntrackZones(resolveOk(spec()));
    expect(conntrackZones(resolveOk(spec()))).toEqual(a);
    const reversed = spec();
    const b = conntrackZones(resolveOk({ ...reversed, segments: [...reversed.segments].reverse() }));
    expect(Object.fromEntries(b)).toEqual(Object.fromEntries(a));
  });

  it("follows the lab's prefix and the segment's name (another lab on the host gets other zones)", () => {
    const names = ["acme-web", "globex-web"];
    expect(Object.fromEntries(conntrackZones(labOf("lab", names)))).toEqual({ "acme-web": home("lab", "acme-web"), "globex-web": home("lab", "globex-web") });
    expect(conntrackZones(labOf("other", names)).get("acme-web")).toBe(home("other", "acme-web"));
  });

  it("distinct segments get distinct zones even when their hashes collide, however many there are", () => {
    const names = Array.from({ length: 3000 }, (_, i) => `s${i}`);
    // 3,000 names over 65,535 zones: some share a home zone (the birthday bound makes ~68 pairs likely).
    const byHome = new Map<number, string[]>();
    for (const n of names) byHome.set(home("lab", n), [...(byHome.get(home("lab", n)) ?? []), n]);
    const colliding = [...byHome.values()].filter((v) => v.length > 1);
    expect(colliding.length).toBeGreaterThan(0);
    const zones = conntrackZones(labOf("lab", names));
    expect(zones.size).toBe(names.length);
    expect(new Set(zones.values()).size).toBe(names.length);
    for (const z of zones.values()) expect(z >= 1 && z <= 65535).toBe(true);
    // Of a colliding group, the first by name keeps its home zone; the others move past it.
    for (const group of colliding) {
      const [first, ...rest] = [...group].sort((a, b) => a.localeCompare(b));
      const taken = new Set(names.filter((n) => n.localeCompare(first) < 0).map((n) => zones.get(n)));
      if (!taken.has(home("lab", first))) expect(zones.get(first)).toBe(home("lab", first));
      for (const r of rest) expect(zones.get(r)).not.toBe(home("lab", r));
    }
  });

  it("a collision at the top zone wraps around to 1, never to 0 or 65536", () => {
    // Two names whose home zone is 65535 (found by search: about one name in 65,535 has it).
    const top: string[] = [];
    for (let i = 0; top.length < 2; i++) if (home("w", `n${i}`) === 65535) top.push(`n${i}`);
    const zones = conntrackZones(labOf("w", top));
    const [first, second] = [...top].sort((a, b) => a.localeCompare(b));
    expect(zones.get(first)).toBe(65535);
    expect(zones.get(second)).toBe(1);
  });
});
