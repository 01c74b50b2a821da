import { sh } from "../net";
import { OVS_RUN_ROOT, ResolvedLab, qosMajor } from "../model";
import { TABLES, TOOLS, chainMarker } from "./firewall";
import { BIRD_DIR } from "./bird";
import { INVENTORY_DIR } from "./inventory";
import { applyScript, teardownScript } from "./script";
import { ipsetPrune, nftTable } from "./security";
import { Owned, Runner, Stage } from "./stage";

/**
 * Convergence, as controllers resync (Calico Felix, kube-proxy, Neutron's agents): Terraform never
 * runs the destroy-time step of a stage removed from the code, so each machine gets a converge stage,
 * replaced whenever what the lab declares there changes, that lists the live objects carrying the
 * lab's prefix kind by kind and removes those no stage declares. Each host also gets an owner stage,
 * created once, whose destroy removes everything the lab has there: `cdktf destroy` needs nothing else.
 */

export const convergeId = (scope: string) => (scope === CONTROLLER ? "converge" : `converge/${scope}`);
export const ownerId = (host: string) => `owner/${host}`;
const CONTROLLER = "";

/** The state scope of a host's holds and records: its namespace when emulated, else the host itself. */
export function stateScope(lab: ResolvedLab, host: string): string {
  return lab.hosts.find((h) => h.name === host)?.netns ?? "host";
}

/** Everything the stages on one machine declare, as the keep lists of the converge helpers. */
function keepLists(owned: readonly Owned[]) {
  const of = <K extends Owned["kind"]>(kind: K) => owned.filter((o): o is Extract<Owned, { kind: K }> => o.kind === kind);
  const list = (xs: readonly string[]) => [...new Set(xs)].sort().join(",") || "-";
  return {
    netns: list(of("netns").map((o) => o.name)),
    links: (netns?: string) => list(of("link").filter((o) => o.netns === netns).map((o) => o.name)),
    linkNamespaces: [...new Set(of("link").map((o) => o.netns).filter((n): n is string => !!n))].sort(),
    chains: (family: 4 | 6, table: string) => list(of("chain").filter((o) => o.family === family && o.table === table).map((o) => o.name)),
    sets: list(of("ipset").flatMap((o) => [o.name])),
    nft: of("nft-table").length > 0,
    routes: list(of("route").map((o) => o.to)),
    addresses: list(of("address").map((o) => `${o.address}@${o.dev}`)),
    holds: list([...of("sysctl").map((o) => o.key.replace(/\//g, "%")), ...(of("br-netfilter").length ? ["br_netfilter"] : [])]),
    files: of("file").map((o) => o.path),
    bridges: list(of("ovs-bridge").map((o) => o.name)),
    bird: of("bird").length > 0,
    qdiscs: list(of("qdisc").map((o) => (o.at === "root" ? o.dev : `${o.dev}@ingress`))),
  };
}

/** Host scope: removes what the lab no longer declares on the host (all of it when `owned` is empty). */
function hostLines(lab: ResolvedLab, host: string, owned: readonly Owned[]): string[] {
  const k = keepLists(owned);
  const scope = stateScope(lab, host);
  const p = lab.prefix;
  const emulated = lab.backend.kind === "emulated";
  return [
    // Emulated namespaces all live on the controller, which converges them; on a real host the lab
    // makes routers (-rt.) and namespace guests (-g.) only, and never touches another namespace that
    // happens to start with its prefix.
    ...(emulated ? [] : [sh`cn_netns_prune ${`${p}-rt.`} ${k.netns}`, sh`cn_netns_prune ${`${p}-g.`} ${k.netns}`]),
    // Links: an emulated host's namespace is the lab's own, so every link of its prefix is; on a real
    // host only those the lab recorded making (another tool's `br-…` may match a short prefix).
    emulated ? sh`cn_links_prune - ${p} ${k.links()}` : sh`cn_records_prune ${scope} ${p} links ${k.links()}`,
    ...([4, 6] as const).flatMap((f) => TABLES.map((t) => sh`cn_fw_prune - ${TOOLS[f].cmd} ${TOOLS[f].save} ${t} ${chainMarker(p)} ${k.chains(f, t)}`)),
    // Sets after the chains that named them.
    ...ipsetPrune(p, k.sets),
    ...(k.nft ? [] : [sh`nft delete table bridge ${nftTable(p)} 2>/dev/null || true`]),
    sh`cn_records_prune ${scope} ${p} routes ${k.routes}`,
    sh`cn_records_prune ${scope} ${p} addresses ${k.addresses}`,
    sh`cn_holds_prune ${scope} ${p} ${k.holds}`,
    // The BGP speaker first: stopped, it withdraws its routes from the kernel and its peers.
    ...(k.bird ? [] : [sh`cn_bird_down ${`${BIRD_DIR}/${scope}`} ${p}`]),
    // Open vSwitch: the lab's bridges not kept; an emulated host that keeps none stops its daemons.
    sh`cn_ovs_prune ${emulated ? `${OVS_RUN_ROOT}/${scope}` : "-"} ${p} ${k.bridges}`,
    // Traffic control on the lab's devices that no policy shapes any more.
    sh`cn_tc_prune ${qosMajor(p).toString(16)} ${p} ${scope} ${k.qdiscs}`,
    sh`cn_state_tidy ${scope}`,
  ];
}

/** Controller scope (emulated labs): namespaces, the fabric's ports, the inventory file. */
function controllerLines(lab: ResolvedLab, owned: readonly Owned[], allOwned: readonly Owned[]): string[] {
  const k = keepLists(owned);
  const inventory = `${INVENTORY_DIR}/${lab.name}.json`;
  const namespaces = keepLists(allOwned).netns;
  return [
    // The switches of hosts taken out of the lab (or all, on destroy) stop before their namespaces go.
    sh`cn_ovs_dirs_prune ${OVS_RUN_ROOT} ${lab.prefix} ${namespaces}`,
    sh`cn_netns_prune ${`${lab.prefix}-`} ${namespaces}`,
    ...k.linkNamespaces.map((ns) => sh`if [ -e /run/netns/${ns} ]; then cn_links_prune ${ns} ${lab.prefix} ${k.links(ns)}; fi`),
    ...(k.files.includes(inventory) ? [] : [sh`rm -f ${inventory}`]),
    sh`rmdir ${INVENTORY_DIR} 2>/dev/null || true`,
    "cn_state_tidy",
  ];
}

function scopeOf(runOn: Runner): string {
  return runOn.kind === "host" ? runOn.host : CONTROLLER;
}

/**
 * The converge stages: one per host, after every stage on it, and for emulated labs one on the
 * controller after everything. Each is replaced exactly when its keep lists change.
 */
export function convergeStages(lab: ResolvedLab, stages: readonly Stage[]): Stage[] {
  const emulated = lab.backend.kind === "emulated";
  const out: Stage[] = lab.hosts.map((h) => {
    const mine = stages.filter((s) => scopeOf(s.runOn) === h.name);
    const title = `converge ${h.name}`;
    const body = hostLines(lab, h.name, mine.flatMap((s) => s.owns ?? []));
    return {
      id: convergeId(h.name), runOn: { kind: "host", host: h.name }, title, after: mine.map((s) => s.id), replacedWith: [],
      apply: applyScript(title, body, []),
      teardown: teardownScript(title, [": # the owner stage removes everything on destroy"]),
    };
  });
  if (emulated) {
    const title = "converge controller";
    const mine = stages.filter((s) => scopeOf(s.runOn) === CONTROLLER);
    const body = controllerLines(lab, mine.flatMap((s) => s.owns ?? []), stages.flatMap((s) => s.owns ?? []));
    out.push({
      id: convergeId(CONTROLLER), runOn: { kind: "controller" }, title, after: [...stages.map((s) => s.id), ...out.map((s) => s.id)], replacedWith: [],
      apply: applyScript(title, body, []),
      teardown: teardownScript(title, [": # the fabric stage removes everything on destroy"]),
    });
  }
  return out;
}

/** A host's owner: created once (its scripts depend on the prefix and host only), on destroy it removes all the lab put there. */
export function ownerStage(lab: ResolvedLab, host: string, after: readonly string[]): Stage {
  const title = `lab ${lab.prefix} on ${host}`;
  return {
    id: ownerId(host), runOn: { kind: "host", host }, title, after, replacedWith: [],
    identity: `owner of lab ${lab.prefix} on host ${host} (${lab.backend.kind})`,
    apply: applyScript(title, [": # owns what the lab puts on this host; removes it on destroy"], []),
    teardown: teardownScript(title, hostLines(lab, host, [])),
  };
}

/** The emulated controller's removal of everything (the fabric stage's teardown): every namespace and file of the lab. */
export function controllerTeardown(lab: ResolvedLab): string[] {
  return controllerLines(lab, [], []);
}
