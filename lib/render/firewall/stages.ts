import { applyScript, teardownScript } from "../script";
import { Runner, Stage } from "../stage";
import { FIREWALL_HELPERS, applyRuleset, removeLabChains } from "./restore";
import { Ruleset } from "./ruleset";

export interface FirewallStagesInput {
  /** e.g. `h1` or `guest-web`: the stages are `firewall-base/<where>` and `firewall/<where>`. */
  readonly where: string;
  readonly runOn: Runner;
  readonly prefix: string;
  readonly rulesets: readonly Ruleset[];
  readonly after: readonly string[];
  /** Stages whose replacement must rebuild the base (e.g. the namespace the rules live in). @default none */
  readonly replacedWith?: readonly string[];
  /** Extra state the base owns, e.g. a sysctl saved on apply and restored on teardown. */
  readonly baseApply?: readonly string[];
  readonly baseTeardown?: readonly string[];
  /** Commands run before the rules, e.g. enabling forwarding or filling the sets they name. */
  readonly preRules?: readonly string[];
  /** Commands run after the rules, e.g. removing sets no rule names any more. */
  readonly postRules?: readonly string[];
  /** Extra shell helpers both stages need. */
  readonly helpers?: readonly string[];
}

export const firewallBaseId = (where: string) => `firewall-base/${where}`;
export const firewallId = (where: string) => `firewall/${where}`;

/**
 * Rules come as two stages so that changing them never opens a gap:
 * - the base is created once and, on destroy, removes every chain of the lab (and restores what
 *   it saved); a rebuilt bridge or router does not replace it;
 * - the rules stage is replaced whenever the rules change, and its destroy does nothing: the next
 *   apply swaps the chains' contents atomically (iptables-restore per table) and prunes chains it no
 *   longer uses. A failed apply leaves the previous rules in force, and a rule change never opens
 *   a gap.
 */
export function firewallStages(input: FirewallStagesInput): Stage[] {
  const baseTitle = `firewall base on ${input.where}`;
  const teardown = [...removeLabChains(input.prefix), ...(input.baseTeardown ?? [])];
  const helpers = [...FIREWALL_HELPERS, ...(input.helpers ?? [])];
  const base: Stage = {
    id: firewallBaseId(input.where),
    runOn: input.runOn,
    title: baseTitle,
    after: input.after,
    // Rules name devices, not their instances: a rebuilt bridge needs no new rules.
    replacedWith: input.replacedWith ?? [],
    apply: applyScript(baseTitle, input.baseApply ?? [":"], [], helpers),
    teardown: teardownScript(baseTitle, teardown, helpers),
  };
  const rulesTitle = `firewall rules on ${input.where}`;
  const rules: Stage = {
    id: firewallId(input.where),
    runOn: input.runOn,
    title: rulesTitle,
    after: [base.id],
    apply: applyScript(rulesTitle, [...(input.preRules ?? []), ...input.rulesets.flatMap(applyRuleset), ...(input.postRules ?? [])], [], helpers),
    teardown: teardownScript(rulesTitle, [": # the base stage removes the rules when the lab is destroyed"]),
  };
  return [base, rules];
}
