import { spawnSync } from "child_process";
import { LabSpec, ResolvedLab, formatIssues, resolveLab } from "../../lib/model";
import { Stage, renderLab, stageFingerprints } from "../../lib/render";
import { LocalExec, hookFor } from "../../lib/targets";

/** Resolves a spec or throws with its issues. */
export function resolved(spec: LabSpec): ResolvedLab {
  const r = resolveLab(spec);
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

/** Undoes Terraform's template escaping, as Terraform does when it evaluates the string. */
function unescape(text: string): string {
  return text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

/**
 * Runs a stage's apply or teardown exactly as Terraform's local-exec would: the hook's interpreter
 * and launcher, with the script chunks in the environment. Only for local and emulated targets.
 */
export function runStage(lab: ResolvedLab, stage: Stage, phase: "apply" | "teardown"): { status: number; output: string } {
  const hook = hookFor(lab, stage);
  const p = hook.provisioners[phase === "apply" ? 0 : 1] as LocalExec;
  if (p.type !== "local-exec") throw new Error(`stage ${stage.id} is not run with local-exec`);
  const envMap = p.environment;
  const env: Record<string, string> = { ...process.env } as Record<string, string>;
  for (const [k, v] of Object.entries(envMap)) env[k] = unescape(v);
  const r = spawnSync(p.interpreter[0], [...p.interpreter.slice(1), unescape(p.command)], { env, encoding: "utf8" });
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** Applies every stage in order; throws on the first failure. */
export function applyAll(lab: ResolvedLab): Stage[] {
  const stages = renderLab(lab);
  for (const s of stages) {
    const r = runStage(lab, s, "apply");
    if (r.status !== 0) throw new Error(`apply of ${s.id} failed (${r.status}):\n${r.output}`);
  }
  return stages;
}

/** Tears every stage down in reverse order; throws on the first failure. */
export function teardownAll(lab: ResolvedLab, stages: readonly Stage[]): void {
  for (const s of [...stages].reverse()) {
    const r = runStage(lab, s, "teardown");
    if (r.status !== 0) throw new Error(`teardown of ${s.id} failed (${r.status}):\n${r.output}`);
  }
}

/**
 * Deploys successive versions of a lab the way Terraform does with our hooks: a stage whose
 * fingerprint changed is replaced (the teardown of the current configuration, which is where the
 * destroy provisioner is read from, then its new apply), a new stage is applied, and a stage removed
 * from the code is dropped from the state without running anything (Terraform does not run
 * destroy-time provisioners of removed resources). `destroy` runs every teardown, last first.
 */
export class Deployment {
  private state: Array<{ lab: ResolvedLab; stage: Stage; fingerprint: string }> = [];

  /** Ids of the stages the last deploy applied (new or replaced). */
  applied: string[] = [];

  /** `edit` changes the rendered stages first, e.g. to stand for a new version of the library. */
  deploy(lab: ResolvedLab, edit: (s: Stage) => Stage = (s) => s): void {
    const stages = renderLab(lab).map(edit);
    const fingerprints = stageFingerprints(stages);
    const replaced = this.state.filter((e) => fingerprints.has(e.stage.id) && fingerprints.get(e.stage.id) !== e.fingerprint);
    const next = new Map(stages.map((st) => [st.id, st]));
    for (const e of [...replaced].reverse()) {
      const r = runStage(lab, next.get(e.stage.id)!, "teardown");
      if (r.status !== 0) throw new Error(`teardown of replaced ${e.stage.id} failed (${r.status}):\n${r.output}`);
    }
    this.applied = [];
    // Removed stages leave the state; replaced ones are gone until applied again (a failure keeps them out).
    // A kept stage's teardown is now the current configuration's (its destroy provisioner), without running anything.
    this.state = this.state.filter((e) => fingerprints.get(e.stage.id) === e.fingerprint).map((e) => ({ ...e, lab, stage: next.get(e.stage.id)! }));
    for (const s of stages) {
      const fingerprint = fingerprints.get(s.id)!;
      if (this.state.some((e) => e.stage.id === s.id)) continue;
      const r = runStage(lab, s, "apply");
      if (r.status !== 0) throw new Error(`apply of ${s.id} failed (${r.status}):\n${r.output}`);
      this.applied.push(s.id);
      this.state.push({ lab, stage: s, fingerprint });
    }
    // Terraform's state order: dependencies first, as rendered.
    const order = new Map(stages.map((s, i) => [s.id, i]));
    this.state.sort((a, b) => order.get(a.stage.id)! - order.get(b.stage.id)!);
  }

  destroy(): void {
    for (const e of [...this.state].reverse()) {
      const r = runStage(e.lab, e.stage, "teardown");
      if (r.status !== 0) throw new Error(`teardown of ${e.stage.id} failed (${r.status}):\n${r.output}`);
    }
    this.state = [];
  }
}
