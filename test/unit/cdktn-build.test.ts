// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rewrite, mentionsCdktf } = require("../../flavours/cdktn/build.js") as {
  rewrite: (text: string) => string;
  mentionsCdktf: (text: string) => boolean;
};

/** flavours/cdktn/build.js: how the cdktn package's imports are rewritten, and what stops its build. */
describe("the cdktn build's rewrite", () => {
  it("turns every import form tsc emits for cdktf, and its subpaths, into cdktn's", () => {
    const emitted = [
      `const cdktf_1 = require("cdktf");`,
      `const unique_1 = require("cdktf/lib/private/unique");`,
      `import { App } from 'cdktf';`,
      `export * from "cdktf/lib/validations";`,
      `readonly stack: import("cdktf").TerraformStack;`,
    ].join("\n");
    const out = rewrite(emitted);
    expect(out).toBe([
      `const cdktf_1 = require("cdktn");`,
      `const unique_1 = require("cdktn/lib/private/unique");`,
      `import { App } from 'cdktn';`,
      `export * from "cdktn/lib/validations";`,
      `readonly stack: import("cdktn").TerraformStack;`,
    ].join("\n"));
    expect(mentionsCdktf(out)).toBe(false);
  });

  it("leaves other packages alone, also those whose names start like cdktf's", () => {
    const other = `require("cdktf-cloudnet"); require("constructs"); require("./cdktf");`;
    expect(rewrite(other)).toBe(other);
    expect(mentionsCdktf(other)).toBe(false);
  });

  it("fails the build on forms it does not rewrite, rather than shipping them", () => {
    for (const form of [
      `require.resolve("cdktf/package.json")`, "require(`cdktf`)", `/// <reference types="cdktf" />`,
      `import "cdktf";`, `declare module "cdktf" {}`, `require("@cdktf/provider-null")`,
    ]) {
      expect([form, mentionsCdktf(rewrite(form))]).toEqual([form, true]);
    }
  });
});
