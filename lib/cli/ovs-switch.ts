import { spawnSync } from "child_process";
import { Inventory, InventoryCluster } from "../render/inventory";
import { INTEGRATION_TABLES, PROVIDER_TABLES, TUNNEL_TABLES } from "../render/ovs-flows";

/** Runs a command and returns its standard output; throws with its error output when it fails. */
export type Exec = (command: string, args: readonly string[]) => string;

export const execFile: Exec = (command, args) => {
  const r = spawnSync(command, args as string[], { encoding: "utf8" });
  if (r.error) throw new Error(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
};

/** A cluster host's switch (its own ovsdb-server and ovs-vswitchd on an emulated host). */
export class OvsSwitch {
  constructor(private readonly runDir: string, private readonly exec: Exec = execFile) {}

  /** The bridge's flows, highest priority first; `stats` keeps the counters. */
  dumpFlows(bridge: string, stats: boolean): string[] {
    const args = ["-O", "OpenFlow14", "dump-flows", "--rsort", "--names", ...(stats ? [] : ["--no-stats"]), `unix:${this.runDir}/${bridge}.mgmt`];
    return this.exec("ovs-ofctl", args).split("\n").filter((l) => /^\s*cookie=|table=/.test(l)).map((l) => l.trim());
  }

  trace(bridge: string, flow: string): string {
    return this.exec("ovs-appctl", ["-t", `${this.runDir}/ovs-vswitchd.ctl`, "ofproto/trace", "--names", bridge, flow]);
  }
}

/** A cluster's bridges on a host, with their role and what each table of theirs does. */
export function bridgesOf(cluster: InventoryCluster, host: string): Array<{ bridge: string; role: string; tables: Map<number, string> }> {
  const named = (tables: Record<string, { id: number; what: string }>) => new Map(Object.values(tables).map((t) => [t.id, t.what]));
  const provider = cluster.hosts.find((h) => h.name === host)?.providerBridge;
  return [
    { bridge: cluster.integrationBridge, role: "integration bridge", tables: named(INTEGRATION_TABLES) },
    { bridge: cluster.tunnelBridge, role: "tunnel bridge", tables: named(TUNNEL_TABLES) },
    ...(provider ? [{ bridge: provider, role: "provider bridge", tables: named(PROVIDER_TABLES) }] : []),
  ];
}

/** A deployed lab's clusters; a clear error when it has none. */
export function clustersOf(lab: Inventory): readonly InventoryCluster[] {
  const clusters = lab.clusters ?? [];
  if (clusters.length === 0) throw new Error(`lab '${lab.lab}' has no overlay cluster (or was deployed before inventories described them; deploy it again).`);
  return clusters;
}

/** The clusters of a deployed lab that `host` belongs to, with that host's switch; a clear error when there is none. */
export function clustersOn(lab: Inventory, host: string): Array<{ cluster: InventoryCluster; runDir: string }> {
  const clusters = clustersOf(lab);
  const found = clusters.flatMap((c) => c.hosts.filter((h) => h.name === host).map((h) => ({ cluster: c, runDir: h.ovsRunDir })));
  if (found.length === 0) {
    const hosts = [...new Set(clusters.flatMap((c) => c.hosts.map((h) => h.name)))];
    throw new Error(`host '${host}' is in no overlay cluster of lab '${lab.lab}'; its cluster hosts are: ${hosts.join(", ")}.`);
  }
  return found;
}
