import { InvalidValueError } from "./errors";

const PREFIX: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9 };
const PREFIX_NAME: Record<string, string> = { "": "", k: "kilo", m: "mega", g: "giga" };

/**
 * A bandwidth, held in bits per second. Made with an explicit unit (`Rate.mbit(30)`) or parsed from
 * text that says bits or bytes unmistakably (`"30Mbit"`, `"3.75MB/s"`); tc's `mbps` (megabytes, not
 * megabits) is refused rather than guessed. Rendered for tc in bits (`30000000bit`), which tc cannot
 * misread either.
 */
export class Rate {
  private constructor(readonly bitsPerSecond: number) {}

  static bit(n: number): Rate {
    return Rate.of(n, 1, "bit");
  }

  static kbit(n: number): Rate {
    return Rate.of(n, 1e3, "kbit");
  }

  static mbit(n: number): Rate {
    return Rate.of(n, 1e6, "mbit");
  }

  static gbit(n: number): Rate {
    return Rate.of(n, 1e9, "gbit");
  }

  /** Bytes per second, as storage people count: `Rate.bytesPerSecond(1_250_000)` is 10 Mbit/s. */
  static bytesPerSecond(n: number): Rate {
    return Rate.of(n, 8, "bytes per second");
  }

  /**
   * `"30Mbit"`, `"30 mbit/s"`, `"1.5Gbit"`, `"500kbit"`, `"30Mb/s"` (a lower-case b is bits), and
   * `"3.75MB/s"` (an upper-case B is bytes); SI multiples. tc's `kbps`/`mbps` are refused as ambiguous.
   */
  static parse(text: string): Rate {
    const ambiguous = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)bps\s*$/i.exec(text);
    if (ambiguous) {
      const [, n, p] = ambiguous;
      const bit = p.toLowerCase() === "k" ? "k" : p.toUpperCase();
      throw new InvalidValueError(`'${text}' is ambiguous: tc reads it as ${PREFIX_NAME[p.toLowerCase()]}bytes per second, most people as ${PREFIX_NAME[p.toLowerCase()]}bits; write '${n}${bit}bit' for bits or '${n}${bit}B/s' for bytes.`);
    }
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)(bits?(?:\/s)?|b\/s|B\/s)\s*$/.exec(text);
    if (!m) {
      throw new InvalidValueError(`'${text}' is not a rate: write a number and a unit, e.g. '30Mbit' (bits per second) or '3.75MB/s' (bytes per second).`);
    }
    const [, n, p, unit] = m;
    return Rate.of(Number(n), PREFIX[p.toLowerCase()] * (unit === "B/s" ? 8 : 1), `${p}${unit}`);
  }

  private static of(n: number, factor: number, unit: string): Rate {
    const bits = n * factor;
    if (!Number.isFinite(bits) || bits <= 0) throw new InvalidValueError(`rate ${n} ${unit} is not positive; give a rate above zero.`);
    if (bits < 8) throw new InvalidValueError(`rate ${n} ${unit} is below 8 bit/s, the least tc can shape to.`);
    if (Math.abs(bits - Math.round(bits)) > 1e-6) throw new InvalidValueError(`rate ${n} ${unit} is not a whole number of bits per second.`);
    return new Rate(Math.round(bits));
  }

  get mbit(): number {
    return this.bitsPerSecond / 1e6;
  }

  /** Bytes per second, rounded up. */
  get bytesPerSecond(): number {
    return Math.ceil(this.bitsPerSecond / 8);
  }

  /** For tc: whole bits per second. */
  toTc(): string {
    return `${this.bitsPerSecond}bit`;
  }

  /** For people: the largest unit that keeps it readable, e.g. `30Mbit`, `1.5Gbit`. */
  toString(): string {
    for (const [unit, f] of [["Gbit", 1e9], ["Mbit", 1e6], ["kbit", 1e3]] as const) {
      if (this.bitsPerSecond >= f) return `${+(this.bitsPerSecond / f).toFixed(3)}${unit}`;
    }
    return `${this.bitsPerSecond}bit`;
  }

  compare(other: Rate): number {
    return this.bitsPerSecond - other.bitsPerSecond;
  }
}
