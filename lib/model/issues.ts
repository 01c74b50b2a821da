import { InvalidValueError } from "../net";

/** One problem found in a lab, at a construct path. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Collects issues; `check` runs a step and records an {@link InvalidValueError} instead of throwing. */
export class IssueCollector {
  readonly issues: Issue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Runs `fn`; on a validation error records it at `path` and returns `undefined`. */
  check<T>(path: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InvalidValueError) {
        this.add(path, e.message);
        return undefined;
      }
      throw e;
    }
  }
}

/** Formats issues the way cdktf reports validation errors: `[path] message`. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `[${i.path}] ${i.message}`).join("\n");
}
