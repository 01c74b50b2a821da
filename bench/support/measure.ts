/** What the benches share: resolving a spec, timing a call, taking a median. */
import { LabSpec, ResolvedLab, formatIssues, resolveLab } from "../../lib/model";

/** Resolves a spec or throws with its issues. */
export function resolved(s: LabSpec): ResolvedLab {
  const r = resolveLab(s);
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

/** Wall-clock seconds of `fn`. */
export function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
