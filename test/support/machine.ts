import { Stage } from "../../lib/render";
import { run, tryRun } from "./netns";

/**
 * A namespace that plays a real machine for Target.local: `eth0` (one end of a veth pair whose other
 * end, `eth0peer`, stays inside) with `address`/24, everything up. Remove it with deleteNetns.
 */
export function createMachine(machine: string, address = "192.0.2.1"): void {
  run("ip", ["netns", "add", machine]);
  run("ip", ["-n", machine, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer"]);
  run("ip", ["-n", machine, "addr", "add", `${address}/24`, "dev", "eth0"]);
  for (const dev of ["lo", "eth0", "eth0peer"]) run("ip", ["-n", machine, "link", "set", dev, "up"]);
}

/**
 * Runs a stage's script in the machine, as Target.local runs it on a machine, and expects it to
 * succeed. nsenter, as the hooks do: namespaces the script makes stay visible (ip netns exec would hide them).
 */
export function inMachine(machine: string, s: Stage, phase: "apply" | "teardown"): void {
  const r = tryRun("nsenter", [`--net=/run/netns/${machine}`, "bash", "-c", phase === "apply" ? s.apply : s.teardown]);
  expect({ stage: s.id, phase, status: r.status, err: r.status ? r.stderr : "" }).toEqual({ stage: s.id, phase, status: 0, err: "" });
}
