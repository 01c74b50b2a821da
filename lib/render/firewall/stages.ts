import { applyScript, keepOnTeardown } from "../script";
import { Owned, Runner, Stage } from "../stage";
import { applyRuleset, restorePayload } from "./restore";
import { Ruleset } from "./ruleset";

export interface FirewallStageInput {
  /** e.g. `h1` or `guest.web`: the stage is `firewall/<where>`. */
  readonly where: string;
  readonly runOn: Runner;
  readonly prefix: string;
  readonly rulesets: readonly Ruleset[];
  readonly after: readonly string[];
  /** Stages whose replacement re-applies the rules (e.g. the one that makes the namespace they live in). @default none */
  readonly replacedWith?: readonly string[];
  /** Commands run before the rules, e.g. filling the sets they name. */
  readonly preRules?: readonly string[];
  /** Commands run after the rules, e.g. removing sets no rule names any more. */
  readonly postRules?: readonly string[];
  /** Objects besides the chains that the stage puts in place. */
  readonly owns?: readonly Owned[];
}

export const firewallId = (where: string) => `firewall/${where}`;

/**
 * The rules as one stage, replaced whenever they change, whose destroy does nothing: its apply swaps
 * the chains' contents atomically (iptables-restore per table) and prunes the chains it no longer
 * uses, so a failed apply leaves the previous rules in force and a rule change never opens a gap.
 * When the lab stops needing rules on a host, its converge stage removes the chains; on destroy the
 * owner stage does.
 */
export function firewallStage(input: FirewallStageInput): Stage {
  const title = `firewall rules on ${input.where}`;
  const hostChains: Owned[] = input.rulesets.filter((rs) => !rs.netns).flatMap((rs) =>
    rs.tables().flatMap((t) => t.chains.map((c) => ({ kind: "chain" as const, family: rs.family, table: t.table, name: c.name }))));
  return {
    id: firewallId(input.where),
    runOn: input.runOn,
    title,
    after: input.after,
    replacedWith: input.replacedWith ?? [],
    apply: applyScript(title, [...(input.preRules ?? []), ...input.rulesets.flatMap(applyRuleset), ...(input.postRules ?? [])], []),
    teardown: keepOnTeardown(title),
    owns: [...hostChains, ...(input.owns ?? [])],
    rules: input.rulesets.filter((rs) => !rs.isEmpty).map((rs) => ({ netns: rs.netns, family: rs.family, payload: restorePayload(rs), hooks: rs.hooks })),
  };
}
