import { InvalidValueError } from "./errors";

/** Characters that need no quoting in any POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_.:/@%+=,-]+$/;

/**
 * Returns `value` if it can stand in a shell script as a bare word, else throws. Every value a
 * renderer interpolates goes through here: a second guard behind model validation.
 */
export function shellWord(value: string | number): string {
  const text = String(value);
  if (!SAFE_WORD.test(text)) {
    throw new InvalidValueError(`'${text}' cannot be placed in a host script: only A-Z a-z 0-9 _ . : / @ % + = , - are allowed.`);
  }
  return text;
}

/** Tagged template for script lines: every interpolated value must be a safe shell word. */
export function sh(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? shellWord(values[i]) : ""), "");
}

/**
 * `command <<'TAG'` with `payload` on stdin. The quoted tag stops all expansion in the payload; a
 * payload line equal to the tag would end it early, so that is refused.
 */
export function heredoc(command: string, payload: string, tag = "CLOUDNET_EOF"): string {
  if (payload.split("\n").includes(tag)) {
    throw new InvalidValueError(`payload contains the heredoc terminator '${tag}'.`);
  }
  return `${command} <<'${tag}'\n${payload}${payload.endsWith("\n") ? "" : "\n"}${tag}`;
}
