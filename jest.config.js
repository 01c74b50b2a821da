/**
 * Four tiers, one project each: `--selectProjects unit synth` needs nothing, kernel and e2e need root.
 * CLOUDNET_PLATFORM=cdktn runs the same tests on CDK Terrain: "cdktf" and "constructs" resolve to the
 * copies in flavours/cdktn (the rewrite the cdktn package's build applies to its own imports).
 */
const onCdktn = process.env.CLOUDNET_PLATFORM === "cdktn";
const cdktn = "<rootDir>/flavours/cdktn/node_modules";
const platform = onCdktn
  ? {
      moduleNameMapper: {
        "^cdktf$": `${cdktn}/cdktn`,
        "^cdktf/(.*)$": `${cdktn}/cdktn/$1`,
        "^constructs$": `${cdktn}/constructs`,
      },
    }
  : {};

const tier = (name, extra = {}) => ({
  displayName: onCdktn ? `${name} (cdktn)` : name,
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  // tsconfig sets isolatedModules, so ts-jest only transpiles; `tsc --noEmit` in npm test type-checks.
  transform: { "^.+\\.ts$": "ts-jest" },
  ...platform,
  ...extra,
});

module.exports = {
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  projects: [
    tier("unit"),
    tier("synth", { setupFilesAfterEnv: ["<rootDir>/test/synth/setup.ts"] }),
    tier("kernel"),
    tier("e2e"),
  ],
};
