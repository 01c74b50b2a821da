import { InvalidValueError, shortHash } from "../../net";
import { Family } from "../../model";

export type Table = "raw" | "mangle" | "nat" | "filter";

/** iptables limits a chain name to 28 characters (XT_EXTENSION_MAXNAMELEN 29 with the NUL). */
export const MAX_CHAIN_NAME = 28;

/** The name of a chain the lab owns: `CN-<prefix>-<purpose>`, hashed when too long. */
export function chainName(prefix: string, purpose: string): string {
  const full = `CN-${prefix}-${purpose}`;
  if (full.length <= MAX_CHAIN_NAME) return full;
  const head = `CN-${prefix}-`;
  return head + purpose.slice(0, MAX_CHAIN_NAME - head.length - 9) + "-" + shortHash(purpose, 8);
}

/** The marker every chain of a lab starts with; teardown removes exactly the chains that carry it. */
export function chainMarker(prefix: string): string {
  return `CN-${prefix}-`;
}

/** A jump from a built-in chain into one of ours, kept at the top of the built-in chain. */
export interface ChainHook {
  readonly table: Table;
  readonly builtin: "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING";
  readonly chain: string;
}

/**
 * The lab's rules on one host (or guest), for one address family: chains with their rules (the
 * text after `-A <chain> `) and the hooks that lead into them. Rules are built from validated words.
 */
export class Ruleset {
  private readonly chains = new Map<string, { table: Table; rules: string[] }>();
  readonly hooks: ChainHook[] = [];

  /** `netns`: the rules live in that namespace of the host (a router's), not the host's own. */
  constructor(readonly family: Family, readonly prefix: string, readonly netns?: string) {}

  /** Declares a chain (once) and returns its name. */
  chain(table: Table, purpose: string): string {
    const name = chainName(this.prefix, purpose);
    const existing = this.chains.get(name);
    if (existing && existing.table !== table) throw new InvalidValueError(`chain ${name} declared in two tables`);
    if (!existing) this.chains.set(name, { table, rules: [] });
    return name;
  }

  rule(chain: string, spec: string): void {
    const c = this.chains.get(chain);
    if (!c) throw new Error(`rule for undeclared chain ${chain}`);
    c.rules.push(spec);
  }

  /** The jump into `chain` from a built-in chain, kept first there: one per built-in chain (jump on from it for more). */
  hook(table: Table, builtin: ChainHook["builtin"], chain: string): void {
    const other = this.hooks.find((h) => h.table === table && h.builtin === builtin);
    if (other) throw new Error(`${table} ${builtin} already leads to ${other.chain}; jump to ${chain} from there`);
    this.hooks.push({ table, builtin, chain });
  }

  get isEmpty(): boolean {
    return this.chains.size === 0;
  }

  /** Chains grouped by table, in a stable order. */
  tables(): Array<{ table: Table; chains: Array<{ name: string; rules: readonly string[] }> }> {
    const order: Table[] = ["raw", "mangle", "nat", "filter"];
    return order
      .map((table) => ({
        table,
        chains: [...this.chains.entries()].filter(([, c]) => c.table === table).map(([name, c]) => ({ name, rules: c.rules })),
      }))
      .filter((t) => t.chains.length > 0);
  }
}
