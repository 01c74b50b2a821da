/** `npm run bench -- <name>`: runs one benchmark (or all) and prints its figures. */
import * as tenants from "./tenants";

const BENCHES: Record<string, () => void> = { tenants: tenants.main };

const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(BENCHES)) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown bench '${name}'; known: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  bench();
}
