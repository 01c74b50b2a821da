/** Where a stage's scripts run. */
export type Runner =
  /** On the machine that runs Terraform, outside any host: creates and removes emulated namespaces. */
  | { readonly kind: "controller" }
  /** On a lab host, through the host's target (SSH, local, or inside its namespace). */
  | { readonly kind: "host"; readonly host: string }
  /** Inside an emulated node's own namespace (a guest or an external). */
  | { readonly kind: "netns"; readonly netns: string };

/**
 * One unit of host state with its own apply and teardown: the smallest thing Terraform creates,
 * replaces or destroys. Scripts are complete bash programs built only from validated words.
 */
export interface Stage {
  /** Unique in the lab, e.g. `host/h1`, `network/h1`, `guest/vm1`. */
  readonly id: string;
  readonly runOn: Runner;
  /** One line for people: what the stage puts in place. */
  readonly title: string;
  readonly apply: string;
  readonly teardown: string;
  /** Stages that must be applied before this one (and torn down after it). */
  readonly after: readonly string[];
  /**
   * Stages whose replacement must replace this one too (a guest's veth must be re-plugged into a
   * rebuilt bridge), a subset of the stages it comes after. @default all of `after`
   */
  readonly replacedWith?: readonly string[];
}
