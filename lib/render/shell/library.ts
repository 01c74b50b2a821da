import { createHash } from "crypto";
import { BASE_HELPERS } from "./base";
import { CONVERGE_HELPERS } from "./converge";
import { NETWORK_HELPERS } from "./network";
import { OVS_HELPERS } from "./ovs";
import { POD_HELPERS } from "./pods";
import { TC_HELPERS } from "./tc";
import { helperDefinitions } from "./select";

/**
 * The helper library: every shell helper, once. Each machine gets it once, as a file named by its
 * hash (the `helpers` stage), and apply scripts source it instead of carrying the helpers they use:
 * at 10,000 guests that was a third of the synthesized bytes. Teardown scripts still carry theirs,
 * so that removing a lab never depends on a file on the host.
 */
export const HELPER_LIBRARY = `${helperDefinitions([...BASE_HELPERS, ...CONVERGE_HELPERS, ...NETWORK_HELPERS, ...OVS_HELPERS, ...TC_HELPERS, ...POD_HELPERS].join("\n"))}\n`;

/** The library's file name: its content's hash, so versions of the library never meet in one file. */
export const HELPER_LIBRARY_NAME = createHash("sha256").update(HELPER_LIBRARY).digest("hex").slice(0, 16);

/**
 * Where a machine keeps the library: `$CLOUDNET_LIB` (tests that run scripts unprivileged), else
 * this. In /run with the rest of the lab's host state: what the lab built does not survive a reboot either.
 */
export const HELPER_LIBRARY_DIR = "/run/cloudnet/lib";

/** A shell word for the library's directory on the machine the script runs on. */
export const HELPER_LIBRARY_DIR_WORD = `\${CLOUDNET_LIB:-${HELPER_LIBRARY_DIR}}`;
