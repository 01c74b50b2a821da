/**
 * A value that cannot be used, with what was wrong and how to fix it.
 * The model prefixes the construct path when it reports the error.
 */
export class InvalidValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidValueError";
  }
}
