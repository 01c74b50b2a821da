import { heredoc, sh } from "../net";
import { ResolvedLab } from "../model";
import { applyScript, keepOnTeardown } from "./script";
import { Stage } from "./stage";

/** Where emulated labs describe themselves for the `cloudnet` CLI. */
export const INVENTORY_DIR = "/run/cloudnet/labs";

/** One node (host or guest) of an emulated lab, as the CLI sees it. */
export interface InventoryNode {
  readonly name: string;
  readonly kind: "host" | "guest" | "external" | "router";
  readonly netns: string;
  /** For guests: the host they sit on. */
  readonly host?: string;
  readonly addresses: readonly string[];
}

export interface Inventory {
  readonly lab: string;
  readonly prefix: string;
  readonly nodes: readonly InventoryNode[];
}

export function inventoryOf(lab: ResolvedLab): Inventory {
  const hosts: InventoryNode[] = lab.hosts.map((h) => ({
    name: h.name, kind: "host", netns: h.netns!, addresses: [`${h.underlay}/${lab.fabric!.cidr.prefixLength}`],
  }));
  const guests: InventoryNode[] = lab.guests.map((g) => ({
    name: g.name, kind: "guest", netns: g.netns!, host: g.host,
    addresses: g.nics.flatMap((n) => [`${n.address}/${n.prefixLength}`, ...(n.address6 ? [`${n.address6}/${n.prefixLength6}`] : [])]),
  }));
  const externals: InventoryNode[] = lab.externals.map((e) => ({
    name: e.name, kind: "external", netns: e.netns,
    addresses: [`${e.address}/${lab.fabric!.cidr.prefixLength}`, ...e.addresses.map((a) => a.toString())],
  }));
  const routers: InventoryNode[] = lab.segments.filter((s) => s.gateway).map((s) => ({
    name: `router.${s.name}`, kind: "router", netns: s.gateway!.router.netns, host: s.gateway!.host,
    addresses: [`${s.gateway!.address}/${s.cidr.prefixLength}`, ...(s.gateway!.address6 ? [`${s.gateway!.address6}/${s.cidr6!.prefixLength}`] : [])],
  }));
  return { lab: lab.name, prefix: lab.prefix, nodes: [...hosts, ...guests, ...externals, ...routers] };
}

/** Writes the lab's inventory file once everything else is in place (the fabric stage removes it on destroy). */
export function renderInventory(lab: ResolvedLab, after: readonly string[]): Stage {
  const file = `${INVENTORY_DIR}/${lab.name}.json`;
  return {
    id: "inventory",
    runOn: { kind: "controller" },
    title: `inventory ${file}`,
    after,
    // Its own content is all it depends on: rebuilt stages do not change the file.
    replacedWith: [],
    apply: applyScript(`inventory ${file}`, [
      sh`mkdir -p ${INVENTORY_DIR}`,
      heredoc(sh`cat > ${file}.tmp`, JSON.stringify(inventoryOf(lab), null, 2)),
      sh`mv -f ${file}.tmp ${file}`,
    ], [sh`rm -f ${file}.tmp`]),
    teardown: keepOnTeardown(`inventory ${file}`),
    owns: [{ kind: "file", path: file }],
  };
}
