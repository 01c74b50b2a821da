import fc from "fast-check";
import { shellWord } from "../../lib/net";

/** Characters with a meaning to a POSIX shell (quoting, expansion, globbing, separators, comments). */
const META = [..." \t\n\r;&|<>()$`\\\"'*?[]{}~#!^"];
const SAFE = [..."ABCXYZabcxyz0189_.:/@%+=,-"];

describe("shellWord properties", () => {
  it("refuses any string that contains a shell metacharacter", () => {
    const withMeta = fc
      .tuple(fc.string(), fc.constantFrom(...META), fc.string())
      .map(([a, m, b]) => a + m + b);
    fc.assert(fc.property(withMeta, (text) => {
      expect(() => shellWord(text)).toThrow(/cannot be placed in a host script/);
    }));
  });

  it("passes any non-empty word of safe characters through unchanged", () => {
    const safe = fc.array(fc.constantFrom(...SAFE), { minLength: 1, maxLength: 40 }).map((cs) => cs.join(""));
    fc.assert(fc.property(safe, (word) => {
      expect(shellWord(word)).toBe(word);
    }));
  });
});
