import { Lab } from "../../lib";
import { hooksOf, synthError, synthJson } from "../support/labs";

describe("two labs in one app", () => {
  it("labs with distinct prefixes render side by side", () => {
    const json = synthJson((s) => {
      new Lab(s, "alpha").addHost("h1");
      new Lab(s, "beta").addHost("h1");
    });
    const stages = Object.values<any>(hooksOf(json)).map((h) => h.input.stage);
    expect(stages.filter((id) => id === "host/h1")).toHaveLength(2);
  });

  // Regression (fixed): the default prefix is the lab name's first 6 characters without '-' (lib/model/resolve.ts:24),
  // so 'tenant-a' and 'tenant-b' both get prefix 'tenant' and both own namespaces 'tenant-fabric' and
  // 'tenant-h1'. Destroying one lab deletes the other's namespaces (DESIGN.md §3 "Owned"). Nothing
  // checks prefixes across labs (lib/constructs/lab.ts); synth should refuse it with the path of the
  // second lab and suggest `prefix:`.
  it("two labs whose prefixes clash are refused at synth", () => {
    const error = synthError((s) => {
      new Lab(s, "tenant-a").addHost("h1");
      new Lab(s, "tenant-b").addHost("h1");
    });
    expect(error).toMatch(/\[stack\/tenant-b\].*prefix 'tenant'/);
  });
});

describe("two labs with one name", () => {
  it("are refused at synth: the name keys the inventory file and the derived MACs", () => {
    const error = synthError((s) => {
      new Lab(s, "a", { name: "shop", prefix: "shopa" }).addHost("h1");
      new Lab(s, "b", { name: "shop", prefix: "shopb" }).addHost("h1");
    });
    expect(error).toContain("[stack/b] lab name 'shop' is already used by lab stack/a; give this lab its own name, e.g. { name: 'shop-2' }.");
  });
});

describe("Lab.resolve() and later changes", () => {
  // Regression (fixed): lib/constructs/lab.ts:149 caches the first resolve() (`this.resolved ??=`). A guest added after
  // someone called lab.resolve() (e.g. to inspect allocated addresses) is silently left out of synth:
  // no stage, no error. addX after resolve() should either invalidate the cache or throw.
  it("a guest added after resolve() is rendered (or refused), never dropped", () => {
    let addError: unknown;
    const json = synthJson((s) => {
      const lab = new Lab(s, "lab");
      lab.addHost("h1");
      const blue = lab.addSegment("blue", { cidr: "10.0.0.0/24" });
      lab.resolve();
      try {
        lab.addGuest("web", { host: "h1", nics: [{ segment: blue }] });
      } catch (e) {
        addError = e;
      }
    });
    const stages = Object.values<any>(hooksOf(json)).map((h) => h.input.stage);
    const outcome = addError !== undefined ? "refused" : stages.includes("guest/web") ? "rendered" : "dropped";
    expect(outcome).not.toBe("dropped");
  });
});
