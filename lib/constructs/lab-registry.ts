import { Construct } from "constructs";

/** Marks a Lab, also one from another copy of this package. */
export const LAB_SYMBOL = Symbol.for("cdktf-cloudnet.Lab");

/** Ids of the lab's own children: its stages, real guests and the scopes of its shortcuts. */
export const LAB_OWN_IDS: readonly string[] = ["Stages", "Compute", "Tenants", "Segments", "SecurityGroups", "Clusters", "QosPolicies", "PodNetworks"];

/**
 * Throws unless `part` (a construct passed as a host, network, guest...) belongs to `lab`: parts are
 * referred to by name, so another lab's would silently stand for a namesake of this one.
 */
export function sameLab(lab: LabRegistry, part: unknown, path: string, what: string): void {
  const other = typeof part === "object" && part !== null ? (part as { _lab?: LabRegistry })._lab : undefined;
  if (other && other !== lab) {
    const name = (part as { name?: string }).name;
    throw new Error(`[${path}] ${what} '${name}' belongs to lab ${other.node.path}, not to lab ${lab.node.path}; parts of one lab can only refer to parts of the same lab.`);
  }
}

/** The kinds of parts a lab is made of. */
export type PartKind = "host" | "guest" | "external" | "tenant" | "segment" | "security group" | "service" | "port forward" | "cluster" | "qos policy" | "pod network" | "pod";

/**
 * Kinds whose names a lab keeps in one namespace. Hosts, guests, externals and pods are nodes (one network
 * namespace each in emulated labs), so they share one; every other kind has its own, so a guest
 * `web` and a security group `web` may coexist.
 */
export function nameSpaceOf(kind: PartKind): string {
  return kind === "host" || kind === "guest" || kind === "external" || kind === "pod" ? "node" : kind;
}

/** What the lab's parts need from their lab. */
export interface LabRegistry extends Construct {
  /**
   * @internal Before a part `id` is created in `scope`: throws at once, naming the other part, when
   * its name is taken in its kind's namespace, its id in `scope` (see `freeIn`), or when the lab was
   * already synthesized. Returns `scope`, for the part's `super(...)`.
   */
  _claim(kind: PartKind, name: string, scope: Construct, id: string): Construct;
  /** @internal Registers a created part (under its name, if its kind has names). */
  _add(kind: PartKind, name: string | undefined, part: Construct): void;
  /** @internal The part at `path` changed the lab: what it resolved before no longer holds. */
  _invalidate(path?: string): void;
  /** @internal The scope of the lab where its `addX()` shortcuts create parts of `kind`. */
  _shortcutScope(kind: PartKind): Construct;
}

/** A lab-wide name as given: non-empty text (the model validates its characters). `path` is the part's. */
export function checkName(path: string, name: unknown, what: string): string {
  if (typeof name !== "string" || name === "") {
    throw new Error(`[${path.replace(/\/$/, "")}] ${what} name '' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter, e.g. '${what.replace(/ /g, "-")}1'.`);
  }
  return name;
}

/**
 * The scope a part is created in, checked first: an id already taken in that scope is reported with
 * the path of what holds it (constructs' own error names neither the kind nor a fix).
 */
export function freeIn(scope: Construct, id: string, what: string): Construct {
  checkName(scope.node.path, id, what);
  if (LAB_SYMBOL in scope && LAB_OWN_IDS.includes(id)) {
    throw new Error(`[${scope.node.path}] ${what} id '${id}' is one the lab uses for itself (${LAB_OWN_IDS.join(", ")}); choose another id.`);
  }
  const existing = scope.node.tryFindChild(id);
  if (existing) {
    throw new Error(`[${scope.node.path}] ${what} id '${id}' is already used by ${existing.node.path} in this scope; choose another id.`);
  }
  return scope;
}

/**
 * The lab a part belongs to: the one given, else the nearest Lab enclosing `scope` (so
 * `new SecurityGroup(lab, "web")` needs no `lab` prop).
 */
export function labOf(scope: Construct, id: string, given: LabRegistry | undefined, what: string): LabRegistry {
  if (given) return given;
  const enclosing = [...scope.node.scopes].reverse().find((c) => LAB_SYMBOL in c);
  if (!enclosing) {
    throw new Error(`[${scope.node.path}/${id}] ${what} '${id}' has no lab: pass it, e.g. { lab }, or create it inside the lab's scope.`);
  }
  return enclosing as unknown as LabRegistry;
}
