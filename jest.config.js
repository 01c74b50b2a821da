/** Four tiers, one project each: `--selectProjects unit synth` needs nothing, kernel and e2e need root. */
const tier = (name, extra = {}) => ({
  displayName: name,
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true }] },
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
