/**
 * The CDK platform this copy of the library runs on (cdktf, or cdktn for CDK Terrain), read from
 * the platform's own package: the cdktn package's build rewrites this import like every other
 * (flavours/cdktn/build.js), so the CLI runs and names the right tool without a setting.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const PLATFORM: string = require("cdktf/package.json").name;

/** The platform's CLI, as its users type it (cdktf or cdktn). */
export const PLATFORM_CLI = PLATFORM;
