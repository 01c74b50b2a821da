import { createHash } from "crypto";
import { InvalidValueError } from "./errors";

/** Linux IFNAMSIZ is 16 bytes including the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;

/** Longest user-given name. */
export const MAX_IDENTIFIER = 32;

/**
 * Checks a user-given name (host, guest, segment, lab). Such names end up in kernel object names
 * and in scripts, so only lower-case letters, digits and '-' are allowed, at most `max` of them
 * (less than 32 where the name is joined to another, as a tenant's network is). The suggestion is
 * itself a valid name, so it can be taken verbatim.
 */
export function validateIdentifier(name: unknown, what: string, max = MAX_IDENTIFIER, why = ""): string {
  if (typeof name === "string" && name.length <= max && /^[a-z][a-z0-9-]*$/.test(name)) return name;
  const text = String(name);
  const suggestion = suggestIdentifier(text, max);
  const fix = suggestion ? ` Did you mean '${suggestion}'?` : "";
  throw new InvalidValueError(
    `${what} name '${text}' is not allowed: use 1-${max} characters of a-z, 0-9 and '-', starting with a letter${why}.${fix}`,
  );
}

/** The nearest valid name: lower case, runs of other characters as one '-', letters first, within `max`. */
export function suggestIdentifier(text: string, max = MAX_IDENTIFIER): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^[^a-z]+/, "").slice(0, max).replace(/-+$/, "");
}

/** Short, stable hex digest of `text`. */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * A kernel object name `<prefix><kind>-<name>` that fits `max` bytes. When the readable form is too
 * long, the name part becomes a hash of it, so the result stays unique and deterministic.
 */
export function kernelName(prefix: string, kind: string, name: string, max = MAX_INTERFACE_NAME): string {
  const readable = `${prefix}${kind}-${name}`;
  if (Buffer.byteLength(readable) <= max) return readable;
  const head = `${prefix}${kind}-`;
  if (Buffer.byteLength(head) >= max - 3) {
    throw new InvalidValueError(`prefix '${prefix}${kind}' leaves no room for a name within ${max} bytes.`);
  }
  return head + shortHash(name, max - Buffer.byteLength(head));
}

/** Validates a network interface name against the kernel's rules. */
export function validateInterfaceName(name: string): string {
  // The kernel forbids '/', ':' and whitespace; we also keep to characters a script can carry bare.
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(name) || name === "." || name === "..") {
    throw new InvalidValueError(
      `interface name '${name}' is invalid: use 1-${MAX_INTERFACE_NAME} of A-Z a-z 0-9 _ . @ -, e.g. 'eth0'.`,
    );
  }
  return name;
}
