/** Four tiers, one project each: `--selectProjects unit synth` needs nothing, kernel and e2e need root. */
const tier = (name, extra = {}) => ({
  displayName: name,
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  // tsconfig sets isolatedModules, so ts-jest only transpiles; `tsc --noEmit` in npm test type-checks.
  transform: { "^.+\\.ts$": "ts-jest" },
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
