import { Cidr } from "../net";
import { IssueCollector } from "./issues";
import { LabSpec } from "./spec";

/** What every resolve step shares: the spec, the issues found so far, and the lab-wide names. */
export class ResolveContext {
  readonly issues = new IssueCollector();
  private readonly nodeNames = new Map<string, string>();

  constructor(
    readonly spec: LabSpec,
    readonly prefix: string,
    /** Emulated backend: the fabric's network. */
    readonly fabric: Cidr | undefined,
  ) {}

  get emulated(): boolean {
    return this.spec.backend.kind === "emulated";
  }

  /** Hosts, guests, externals and pods share one namespace of names (they are nodes of the lab). */
  claimNodeName(name: string, path: string, what: string): void {
    if (name === "fabric") this.issues.add(path, `${what} name 'fabric' is reserved for the emulated underlay; choose another name.`);
    const other = this.nodeNames.get(name);
    if (other) this.issues.add(path, `${what} name '${name}' is already used by ${other}; host, guest, external and pod names must be unique in a lab.`);
    else this.nodeNames.set(name, path);
  }
}

/** Reports every value that occurs twice, at the later path, naming the first. */
export function checkUnique(ctx: ResolveContext, entries: Array<[string, string]>, what: string): void {
  const seen = new Map<string, string>();
  for (const [value, path] of entries) {
    const other = seen.get(value);
    if (other) ctx.issues.add(path, `${what} ${value} is already used by ${other}.`);
    else seen.set(value, path);
  }
}

export function isDefined<T>(x: T | undefined): x is T {
  return x !== undefined;
}
