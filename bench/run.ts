/** `npm run bench -- <name>`: runs benchmarks (all when none is named) and prints their figures. */
import * as converge from "./converge";
import * as overlay from "./overlay";
import * as qos from "./qos";
import * as scale from "./scale";
import * as sg from "./sg";
import * as tenants from "./tenants";

const BENCHES: Record<string, () => void | Promise<void>> = { tenants: tenants.main, sg: sg.main, converge: converge.main, scale: scale.main, overlay: overlay.main, qos: qos.main };

async function run(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const bench = BENCHES[name];
    if (!bench) throw new Error(`unknown bench '${name}'; known: ${Object.keys(BENCHES).join(", ")}`);
    await bench();
  }
}

run().then(() => process.exit(0), (e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
