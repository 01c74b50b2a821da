import { Family } from "../model";
import { ChainHook, Table } from "./firewall/ruleset";

/** Where a stage's scripts run. */
export type Runner =
  /** On the machine that runs Terraform, outside any host: creates and removes emulated namespaces. */
  | { readonly kind: "controller" }
  /** On a lab host, through the host's target (SSH, local, or inside its namespace). */
  | { readonly kind: "host"; readonly host: string }
  /** Inside an emulated node's own namespace (a guest or an external). */
  | { readonly kind: "netns"; readonly netns: string };

/**
 * A kernel object (or host setting, or file) a stage puts in place and the lab owns. The converge
 * stage of the stage's machine removes every object of the lab's prefix that no stage declares, so a
 * renderer that creates an object must declare it here.
 */
export type Owned =
  /** A network namespace on the machine the stage runs on. */
  | { readonly kind: "netns"; readonly name: string }
  /** A link in the stage's own namespace, or in `netns` (e.g. the emulated fabric's ports). */
  | { readonly kind: "link"; readonly name: string; readonly netns?: string }
  /** An iptables chain in the host's own namespace. */
  | { readonly kind: "chain"; readonly family: Family; readonly table: Table; readonly name: string }
  | { readonly kind: "ipset"; readonly name: string; readonly family: Family }
  /** A bridge-family nftables table. */
  | { readonly kind: "nft-table"; readonly name: string }
  /** A route in the host's main table, keyed by its destination. */
  | { readonly kind: "route"; readonly to: string }
  /** An address on a device the lab does not own (a floating IP on the uplink). */
  | { readonly kind: "address"; readonly address: string; readonly dev: string }
  /** A host setting held at 1 while the lab needs it (see HOST_STATE_HELPERS). */
  | { readonly kind: "sysctl"; readonly key: string }
  /** br_netfilter loaded for the lab where the host did not have it. */
  | { readonly kind: "br-netfilter" }
  | { readonly kind: "file"; readonly path: string }
  /** An Open vSwitch bridge on the host's switch (an emulated host's own, or the system's). */
  | { readonly kind: "ovs-bridge"; readonly name: string }
  /** The lab's BGP speaker (BIRD) on the host, for its Calico pod network. */
  | { readonly kind: "bird" }
  /** A lab device's root qdisc (with the lab's major handle), or its ingress qdisc. */
  | { readonly kind: "qdisc"; readonly dev: string; readonly at: "root" | "ingress" };

/**
 * One unit of host state: the smallest thing Terraform creates or replaces. Its apply converges:
 * run again over what it built before, it changes nothing, and run over an older version it brings
 * the objects it declares to the new one without taking them down first. It does not remove objects
 * that other stages or older versions left: the machine's converge stage does (Terraform does not
 * run the destroy-time step of a resource removed from the code).
 */
export interface Stage {
  /** Unique in the lab, e.g. `host/h1`, `network/h1`, `guest/vm1`. */
  readonly id: string;
  readonly runOn: Runner;
  /** One line for people: what the stage puts in place. */
  readonly title: string;
  readonly apply: string;
  /**
   * Run by `cdktf destroy` (and by Terraform before a replacement). Only the lab's owner stages (the
   * emulated fabric, `owner/<host>`) remove anything; every other stage's teardown does nothing, so
   * that replacing a stage never takes down what stays.
   */
  readonly teardown: string;
  /** Stages that must be applied before this one (and torn down after it). */
  readonly after: readonly string[];
  /**
   * The library stage of the stage's machine (see `libraryStage`): applied before it and torn down
   * after it like `after`, but never a reason to replace it (its scripts name the library's version).
   */
  readonly library?: string;
  /**
   * Stages whose replacement must re-apply this one too (rules in a router namespace that was
   * rebuilt), a subset of the stages it comes after. @default all of `after`
   */
  readonly replacedWith?: readonly string[];
  /**
   * What the stage is, for the owners: when set, the stage is replaced only when this changes, and a
   * new version of its scripts is taken without running anything (the teardown is written in the
   * destroy provisioner, which Terraform reads from the current configuration). An owner's teardown
   * removes everything, so a new library version must not replace it. @default its scripts
   */
  readonly identity?: string;
  /** What the stage puts in place, for convergence and `cloudnet verify`. @default nothing */
  readonly owns?: readonly Owned[];
  /** The iptables rules it applies, for `cloudnet verify`. @default none */
  readonly rules?: readonly RenderedRules[];
}

/** One `iptables-restore` payload of a stage and the hooks into its chains. */
export interface RenderedRules {
  /** A namespace of the stage's host (a router's); none for the namespace the stage runs in. */
  readonly netns?: string;
  readonly family: Family;
  readonly payload: string;
  readonly hooks: readonly ChainHook[];
}
