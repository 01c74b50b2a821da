/**
 * Turns Terraform's apply output (as `cdktf deploy` prints it with CI=true) into one line per stage
 * and a summary. Pure: feed it lines, it calls `print`; the caller keeps the full log.
 */

/** A stage resource's name, e.g. `lab_Stages_network_h1_hook_2B435B23`: lab path, then the stage id with '/' as '_'. */
const STAGE_RESOURCE = /^(?:(.*)_)?Stages_(.+)_hook_[0-9A-F]{8}$/;

/** What a resource address names: a stage of a lab (ids never hold '_', so '_' maps back to '/'), or itself. */
export function describeResource(address: string): string {
  const [type, name] = address.split(".", 2);
  const m = type === "terraform_data" && name ? STAGE_RESOURCE.exec(name) : null;
  if (!m) return address;
  return m[2].replace(/_/g, "/");
}

interface Running {
  readonly output: string[];
}

/** Terraform's durations: "0s", "12s", "1m3s", "1h2m3s". */
export function terraformSeconds(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) total += Number(n) * ({ h: 3600, m: 60, s: 1 } as const)[unit as "h" | "m" | "s"];
  return total;
}

export interface StageTiming {
  readonly what: string;
  readonly seconds: number;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g; // eslint-disable-line no-control-regex
const OUTPUT_KEPT = 12;

export class DeployProgress {
  private readonly running = new Map<string, Running>();
  private readonly done: StageTiming[] = [];
  private readonly failed = new Set<string>();
  /** Lines of Terraform's error boxes. */
  private readonly errors: string[] = [];
  private inError = false;
  private noChanges = false;
  private readonly started: number;

  constructor(
    private readonly verb: "deploy" | "destroy",
    private readonly print: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** One line of cdktf's output (prefixed with the stack's name or its indent; Terraform's error boxes with ╷ │ ╵). */
  line(raw: string): void {
    const text = raw.replace(ANSI, "").replace(/^(?:\S+ {2,}| +)/, "").trimEnd();
    if (text.startsWith("╷")) {
      this.inError = true;
      return;
    }
    if (text.startsWith("╵")) {
      this.inError = false;
      return;
    }
    if (this.inError) {
      const body = text.replace(/^│ ?/, "");
      const m = /^\s*with (\S+\.\S+),$/.exec(body);
      if (m) this.failed.add(m[1]);
      this.errors.push(body);
      return;
    }
    let m: RegExpExecArray | null;
    // cdktf may add the construct path after the address: "terraform_data.x (lab/Stages/x/hook): ...".
    const line = text.replace(/^(\S+\.\S+) \([^()]*\/[^()]*\)/, "$1");
    if ((m = /^(\S+\.\S+): (Creating|Destroying)\.\.\./.exec(line))) {
      this.running.set(m[1], { output: [] });
    } else if ((m = /^(\S+\.\S+) \((?:local|remote)-exec\): (.*)$/.exec(line))) {
      const r = this.running.get(m[1]);
      if (r && !m[2].startsWith("Executing: ")) {
        r.output.push(m[2]);
        if (r.output.length > OUTPUT_KEPT) r.output.shift();
      }
    } else if ((m = /^(\S+\.\S+): (?:Creation|Destruction) complete after (\S+)/.exec(line))) {
      this.running.delete(m[1]);
      const what = describeResource(m[1]);
      // Terraform's own figure: cdktf passes output on in bursts, so a clock here would be off.
      const seconds = terraformSeconds(m[2]);
      this.done.push({ what, seconds });
      this.print(`  ${this.verb === "deploy" ? "applied" : "removed"}  ${what.padEnd(28)} ${m[2].padStart(6)}`);
    } else if ((m = /^(\S+\.\S+): Still (?:creating|destroying)\.\.\. \[(.*) elapsed\]/.exec(line))) {
      this.print(`  ...      ${describeResource(m[1]).padEnd(28)} still running (${m[2]})`);
    } else if (/^No changes\./.test(line)) {
      this.noChanges = true;
    }
  }

  /** Terraform's errors without the config excerpt and the launcher's text: title, resource, exit status and output. */
  private errorLines(): string[] {
    const out: string[] = [];
    let skipping = false;
    for (const l of this.errors) {
      if (/^Error running command/.test(l)) skipping = true;
      if (skipping) {
        const i = l.indexOf("exit status");
        if (i < 0) continue;
        skipping = false;
        out.push(l.slice(i));
        continue;
      }
      if (l.trim() === "" || /^\s+on \S+ line \d+/.test(l) || /^\s+\d+:/.test(l)) continue;
      out.push(l.replace(/^\s*with (\S+\.\S+),$/, (_, a: string) => `  at ${describeResource(a)} (${a})`));
    }
    return out.slice(0, 30);
  }

  /** The closing lines: what failed (with its last output and Terraform's error), or what was done. */
  finish(status: number, logFile: string): void {
    const total = (this.now() - this.started) / 1000;
    for (const address of this.failed) {
      const r = this.running.get(address);
      this.print(`  FAILED   ${describeResource(address)}`);
      for (const l of r?.output ?? []) this.print(`           | ${l}`);
    }
    if (status !== 0) {
      for (const l of this.errorLines()) this.print(`  ${l}`);
      this.print(`cloudnet: ${this.verb} failed after ${total.toFixed(1)} s; the full Terraform log is ${logFile}`);
      return;
    }
    const slowest = [...this.done].sort((a, b) => b.seconds - a.seconds)[0];
    const what = this.verb === "deploy" ? "applied" : "removed";
    const counted = this.done.length === 0 && this.noChanges
      ? "no changes: the lab is as declared"
      : `${this.done.length} stage${this.done.length === 1 ? "" : "s"} ${what}${slowest && slowest.seconds > 0 ? ` (slowest: ${slowest.what}, ${slowest.seconds} s)` : ""}`;
    this.print(`cloudnet: ${this.verb} done in ${total.toFixed(1)} s, ${counted}; full log: ${logFile}`);
  }
}
