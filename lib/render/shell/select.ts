/**
 * Keeps only the shell helpers a script uses. Every stage used to carry the whole helper library
 * (about 7 kB), which was most of a lab's synthesized bytes; a guest stage uses four helpers.
 *
 * Helper text is our own static text in one format: optional `#` comment lines, then a function
 * `name() { ... }` on one line, or on lines up to a `}` alone at column 0. Any other top-level line
 * (a variable) is always kept. The comments stay in the TypeScript source: they do not travel.
 */
interface Definition {
  readonly name?: string;
  readonly text: string;
}

/** Every helper is named `cn_…`, so a script's calls are found by that prefix alone (a third of the scan's time). */
const START = /^(cn_[a-z0-9_]*)\(\) \{/;

function definitions(helperText: string): Definition[] {
  const defs: Definition[] = [];
  const lines = helperText.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("#") || line === "") continue;
    const start = START.exec(line);
    if (!start && /^[a-z_][a-z0-9_]*\(\) \{/.test(line)) throw new Error(`shell helper '${line}' must be named cn_…`);
    if (!start) {
      defs.push({ text: line });
      continue;
    }
    const body = [line];
    if (!line.endsWith("}")) {
      while (++i < lines.length && lines[i] !== "}") body.push(lines[i]);
      if (i === lines.length) throw new Error(`shell helper ${start[1]} has no closing '}' at column 0`);
      body.push("}");
    }
    defs.push({ name: start[1], text: body.join("\n") });
  }
  return defs;
}

const cache = new Map<string, { defs: Definition[]; byName: Map<string, Definition> }>();

/** Helper texts are a handful of static strings: each is parsed once. */
function parsed(helperText: string): { defs: Definition[]; byName: Map<string, Definition> } {
  let entry = cache.get(helperText);
  if (!entry) {
    const defs = definitions(helperText);
    const byName = new Map<string, Definition>();
    for (const d of defs) if (d.name) byName.set(d.name, d);
    entry = { defs, byName };
    cache.set(helperText, entry);
  }
  return entry;
}

/**
 * Every definition of `helperText` once, comments dropped: a definition repeated verbatim (a helper
 * set included in two others) is kept at its first place.
 */
export function helperDefinitions(helperText: string): string {
  return [...new Set(parsed(helperText).defs.map((d) => d.text))].join("\n");
}

const WORD = /\bcn_[a-z0-9_]*/g;

/**
 * The helpers of `helperText` that `code` calls, directly or through other helpers, in their
 * original order (a later definition of the same name wins, as in bash).
 */
export function usedHelpers(helperText: string, code: string): string {
  const { defs, byName } = parsed(helperText);
  const used = new Set<string>();
  const pending = [code];
  while (pending.length) {
    for (const word of pending.pop()!.match(WORD) ?? []) {
      const def = byName.get(word);
      if (def && !used.has(word)) {
        used.add(word);
        pending.push(def.text);
      }
    }
  }
  return defs.filter((d) => (d.name ? used.has(d.name) && byName.get(d.name) === d : true)).map((d) => d.text).join("\n");
}
