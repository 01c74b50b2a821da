import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cdktfBinary, CLI_VARIABLE } from "../../lib/cli/deploy";
import { PLATFORM, PLATFORM_CLI } from "../../lib/cli/platform";

/** The platform this run resolves cdktf to (jest.config.js), known without the code under test. */
const expected = process.env.CLOUDNET_PLATFORM === "cdktn" ? "cdktn" : "cdktf";

describe("the CLI's platform", () => {
  it("is the package cdktf resolves to, so the cdktn build names and runs cdktn", () => {
    expect([PLATFORM, PLATFORM_CLI, CLI_VARIABLE]).toEqual([expected, expected, `${expected.toUpperCase()}_BIN`]);
  });

  it("runs the project's own CLI of that platform, or the one the platform's variable names", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-platform-"));
    try {
      fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
      // The other platform's CLI in the project is never taken for this one's.
      const other = expected === "cdktf" ? "cdktn" : "cdktf";
      fs.writeFileSync(path.join(dir, "node_modules", ".bin", other), "");
      expect(cdktfBinary(dir)).not.toContain(path.join(dir, "node_modules"));
      fs.writeFileSync(path.join(dir, "node_modules", ".bin", expected), "");
      expect(cdktfBinary(dir)).toBe(path.join(dir, "node_modules", ".bin", expected));
      const saved = process.env[CLI_VARIABLE];
      process.env[CLI_VARIABLE] = path.join(dir, "node_modules", ".bin", other);
      try {
        expect(cdktfBinary(dir)).toBe(path.join(dir, "node_modules", ".bin", other));
      } finally {
        if (saved === undefined) delete process.env[CLI_VARIABLE];
        else process.env[CLI_VARIABLE] = saved;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
