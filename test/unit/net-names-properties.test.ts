import fc from "fast-check";
import { MAX_INTERFACE_NAME, kernelName, validateInterfaceName } from "../../lib/net";

/** What resolveLab lets through: lab prefixes, one-letter kinds, and validated identifiers. */
const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const kind = fc.constantFrom("b", "v", "t", "f");
const identifier = fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/);

describe("kernelName properties", () => {
  it("always fits IFNAMSIZ and is a valid interface name", () => {
    fc.assert(fc.property(prefix, kind, identifier, (p, k, n) => {
      const name = kernelName(p, k, n);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_INTERFACE_NAME);
      expect(validateInterfaceName(name)).toBe(name);
      expect(name.startsWith(`${p}${k}-`)).toBe(true);
    }));
  });

  it("is deterministic", () => {
    fc.assert(fc.property(prefix, kind, identifier, (p, k, n) => {
      expect(kernelName(p, k, n)).toBe(kernelName(p, k, n));
    }));
  });

  it("gives distinct names to distinct inputs of one prefix and kind", () => {
    fc.assert(fc.property(prefix, kind, fc.uniqueArray(identifier, { minLength: 2, maxLength: 40 }), (p, k, names) => {
      const out = names.map((n) => kernelName(p, k, n));
      expect(new Set(out).size).toBe(names.length);
    }));
  });

  // Regression (fixed): lib/net/names.ts:34 compares `readable.length` (UTF-16 code units) with `max`, which the doc
  // comment calls bytes: kernelName('demo', 't', 'ééééé') returns 'demot-ééééé', 16 bytes. Latent
  // today because resolveLab validates names first, but the function does not keep its own promise.
  it("fits 15 bytes even for names with multi-byte characters", () => {
    fc.assert(fc.property(prefix, kind, fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), (p, k, n) => {
      expect(Buffer.byteLength(kernelName(p, k, n))).toBeLessThanOrEqual(MAX_INTERFACE_NAME);
    }));
  });
});
