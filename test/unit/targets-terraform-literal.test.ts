import fc from "fast-check";
import { terraformLiteral } from "../../lib/targets";
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
