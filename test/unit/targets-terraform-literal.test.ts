import fc from "fast-check";
import { sensitiveValue, terraformLiteral } from "../../lib/targets";
import { readSensitive } from "../synth/support/terraform-json";
import { readTerraformLiteral } from "./support/terraform-template";

describe("terraformLiteral", () => {
  it.each([
    ["${HOME}", "$${HOME}"],
    ["%{if x}", "%%{if x}"],
    ["$${x}", "$$${x}"],
    ["$HOME $1 %s 100%", "$HOME $1 %s 100%"],
    ["${!v}", "$${!v}"],
  ])("escapes %j as %j", (text, escaped) => {
    expect(terraformLiteral(text)).toBe(escaped);
  });

  it("never leaves a `${` or `%{` that Terraform would read as a template, and Terraform reads back the input", () => {
    const tricky = fc.array(fc.constantFrom("$", "%", "{", "}", "a", "\\", "\n", "$$", "${", "%{"), { maxLength: 30 }).map((p) => p.join(""));
    fc.assert(fc.property(fc.oneof(tricky, fc.string()), (text) => {
      const read = readTerraformLiteral(terraformLiteral(text));
      expect(read).toBeDefined();
      expect(read).toBe(text);
    }), { numRuns: 500 });
  });

  it("the model of Terraform's reading flags an unescaped interpolation (so the property above can fail)", () => {
    expect(readTerraformLiteral("echo ${HOME}")).toBeUndefined();
    expect(readTerraformLiteral("$%{x}")).toBeUndefined();
    expect(readTerraformLiteral("$$${x}")).toBe("$${x}");
  });
});

describe("sensitiveValue", () => {
  const text = fc.oneof(fc.array(fc.constantFrom("\"", "\\", "\n", "\r", "\t", "\u0001", "${", "%{", ")}", "a", "=", ",", "]"), { maxLength: 30 }).map((p) => p.join("")), fc.string());

  it("writes one `${sensitive(...)}` interpolation that reads back as the same literals: strings, lists and maps", () => {
    fc.assert(fc.property(text, fc.array(text, { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1 }), text, { maxKeys: 4 }), (s, list, map) => {
      for (const v of [s, list, map]) {
        const literal = typeof v === "string" ? terraformLiteral(v) : Array.isArray(v) ? v.map(terraformLiteral) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, terraformLiteral(x)]));
        const expr = sensitiveValue(literal);
        expect(expr.startsWith("${sensitive(") && expr.endsWith(")}")).toBe(true);
        // No raw newline or quote could end the HCL string early.
        expect(expr).not.toMatch(/[\n\r]/);
        expect(readSensitive(expr)).toEqual(literal);
      }
    }), { numRuns: 300 });
  });

  it("escapes what HCL's quoted strings need: quotes, backslashes and control characters", () => {
    expect(sensitiveValue("a\"b\\c\nd\u0001")).toBe('${sensitive("a\\"b\\\\c\\nd\\u0001")}');
    expect(sensitiveValue(["x", "$${HOME}"])).toBe('${sensitive(["x", "$${HOME}"])}');
    expect(sensitiveValue({ CLOUDNET_SCRIPT_0: "echo" })).toBe('${sensitive({"CLOUDNET_SCRIPT_0" = "echo"})}');
  });
});
