import fc from "fast-check";
import { TerraformStack, Testing } from "cdktf";
import { Lab } from "../../lib";
import { suggestIdentifier } from "../../lib/net";
import { synthError } from "../support/labs";

/**
 * Every "Did you mean" suggestion for a name is valid when taken verbatim, and each bad name is
 * reported once, at the construct the user wrote: a tenant's name at the tenant, a network's at the
 * network (in its own words, not as the combined segment name).
 */
const anyName = fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(..."abcxyz019-_. ABZ/é".split("")) });

function build(tenant: string, network: string, guest: string) {
  return (scope: import("constructs").Construct) => {
    const lab = new Lab(scope, "lab");
    const h1 = lab.addHost("h1");
    const net = lab.addTenant(tenant).addNetwork(network, { cidr: "10.0.0.0/24" });
    lab.addGuest(guest, { host: h1, nics: [{ segment: net }] });
    return lab;
  };
}

/** The issues as synth reports them, without synthesizing (fast enough for a property test). */
function issuesOf(make: (scope: import("constructs").Construct) => Lab): string | undefined {
  const lab = make(new TerraformStack(Testing.app(), "stack"));
  const { issues } = lab.resolve();
  return issues.length ? issues.map((i) => `  [${i.path}] ${i.message}`).join("\n") : undefined;
}

const suggestionIn = (error: string | undefined, path: string): string | undefined =>
  error?.split("\n").find((l) => l.includes(`[${path}]`))?.match(/Did you mean '([^']*)'\?/)?.[1];

describe("name suggestions", () => {
  it("taken verbatim, every suggestion synthesizes", () => {
    fc.assert(fc.property(anyName, anyName, anyName, (t, n, g) => {
      // Names that clash with each other are refused at once by the construct tree, not here.
      fc.pre(new Set([t, g, "h1"]).size === 3 && !["h1", g].includes(suggestIdentifier(t)) && suggestIdentifier(g) !== "h1");
      const error = issuesOf(build(t, n, g));
      if (error === undefined) return;
      const lines = error.split("\n").filter((l) => l.startsWith("  ["));
      // One report per construct at most.
      const paths = lines.map((l) => l.slice(3, l.indexOf("]")));
      expect(new Set(paths).size).toBe(paths.length);
      // Construct ids turn '/' into '--'.
      const id = (x: string) => x.replace(/\//g, "--");
      const t2 = suggestionIn(error, `stack/lab/Tenants/${id(t)}`) ?? t;
      const n2 = suggestionIn(error, `stack/lab/Tenants/${id(t)}/${id(n)}`) ?? n;
      const g2 = suggestionIn(error, `stack/lab/${id(g)}`) ?? g;
      // Names without a suggestion (nothing usable in them) stay as they were; only test the fixed ones.
      const fixable = [t2, n2, g2].every((x) => /^[a-z]/.test(x));
      if (!fixable || new Set([t2, g2, "h1"]).size < 3) return;
      expect(issuesOf(build(t2, n2, g2))).toBeUndefined();
    }), { numRuns: 300 });
  });

  it("synth itself reports the same lines", () => {
    const make = build("Acme", "Web_1", "db.1");
    expect(synthError(make)).toContain(issuesOf(make));
  });

  it("a bad tenant name is reported once, at the tenant, not at each of its networks", () => {
    const error = synthError((scope) => {
      const lab = new Lab(scope, "lab");
      const h1 = lab.addHost("h1");
      const t = lab.addTenant("Blue");
      const a = t.addNetwork("app", { cidr: "10.0.0.0/24" });
      const b = t.addNetwork("db", { cidr: "10.0.1.0/24" });
      lab.addGuest("web", { host: h1, nics: [{ segment: a }, { segment: b }] });
    })!;
    const lines = error.split("\n").filter((l) => l.startsWith("  ["));
    expect(lines).toEqual([
      "  [stack/lab/Tenants/Blue] tenant name 'Blue' is not allowed: use 1-30 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'blue'?",
    ]);
  });

  it("a bad network name is a network error in the user's words, with a suggestion that fits next to the tenant", () => {
    const long = "Web_Frontend_Network_For_Customers";
    const error = synthError(build("acme", long, "web"))!;
    const line = error.split("\n").find((l) => l.includes(`[stack/lab/Tenants/acme/${long}]`))!;
    expect(line).toContain(`network name '${long}' is not allowed: use 1-27 characters`);
    const suggestion = suggestionIn(error, `stack/lab/Tenants/acme/${long}`)!;
    expect(suggestion.length).toBeLessThanOrEqual(27);
    expect(synthError(build("acme", suggestion, "web"))).toBeUndefined();
  });
});
