import { spawnSync } from "child_process";
import { LabSpec, ResolvedLab, formatIssues, resolveLab } from "../../lib/model";
import { Stage, renderLab } from "../../lib/render";
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
  const envMap = phase === "apply" ? (p.environment as Record<string, string>) : (hook.input.teardown as Record<string, string>);
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
