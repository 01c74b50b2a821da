import * as ipaddr from "ipaddr.js";
import { InvalidValueError } from "./errors";

export type IpFamily = 4 | 6;

/**
 * Dotted-quad decimal for IPv4 (ipaddr.js alone also takes inet_aton forms such as '10.1' or
 * octal '010.0.0.1', which would silently become other addresses), any valid form for IPv6.
 */
function isStrictAddress(text: string): boolean {
  return text.includes(":") ? ipaddr.IPv6.isValid(text) : ipaddr.IPv4.isValidFourPartDecimal(text);
}

/** A single IPv4 or IPv6 address, normalized (`toString()` is the canonical form). */
export class IpAddress {
  /** Parses an address; a CIDR or anything else is an error that says what was expected. */
  static parse(text: string): IpAddress {
    if (typeof text !== "string" || text.includes("/") || !isStrictAddress(text)) {
      const hint = typeof text === "string" && text.includes("/") ? ` Give the address without a mask, e.g. '${text.split("/")[0]}'.` : "";
      throw new InvalidValueError(`'${String(text)}' is not an IP address.${hint}`);
    }
    return new IpAddress(ipaddr.parse(text));
  }

  private constructor(private readonly addr: ipaddr.IPv4 | ipaddr.IPv6) {}

  get family(): IpFamily {
    return this.addr.kind() === "ipv4" ? 4 : 6;
  }

  /** The address as a big integer, for arithmetic. */
  toBigInt(): bigint {
    return this.addr.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  }

  static fromBigInt(value: bigint, family: IpFamily): IpAddress {
    const bytes: number[] = [];
    for (let i = 0; i < (family === 4 ? 4 : 16); i++) {
      bytes.unshift(Number(value & 0xffn));
      value >>= 8n;
    }
    return new IpAddress(ipaddr.fromByteArray(bytes));
  }

  equals(other: IpAddress): boolean {
    return this.toString() === other.toString();
  }

  toString(): string {
    return this.addr.toString();
  }
}

/** An IP network such as `10.0.0.0/24`: host bits must be zero. */
export class Cidr {
  /** Parses a CIDR, with a fix-it message for a missing mask or host bits that are set. */
  static parse(text: string): Cidr {
    if (typeof text !== "string" || !text.includes("/")) {
      if (typeof text === "string" && isStrictAddress(text)) {
        const full = ipaddr.parse(text).kind() === "ipv4" ? 32 : 128;
        throw new InvalidValueError(`CIDR mask is missing in '${text}'. Did you mean '${text}/${full}'?`);
      }
      throw new InvalidValueError(`'${String(text)}' is not a CIDR such as '10.0.0.0/24' or 'fd00::/64'.`);
    }
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      if (!isStrictAddress(text.slice(0, text.indexOf("/")))) throw new Error("not strict");
      parsed = ipaddr.parseCIDR(text);
    } catch {
      throw new InvalidValueError(`'${text}' is not a CIDR such as '10.0.0.0/24' or 'fd00::/64'.`);
    }
    const [addr, prefix] = parsed;
    const network = addr.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(text)
      : ipaddr.IPv6.networkAddressFromCIDR(text);
    if (network.toString() !== addr.toString()) {
      throw new InvalidValueError(`'${text}' has host bits set. Did you mean '${network.toString()}/${prefix}'?`);
    }
    return new Cidr(IpAddress.parse(addr.toString()), prefix);
  }

  private constructor(readonly network: IpAddress, readonly prefixLength: number) {}

  get family(): IpFamily {
    return this.network.family;
  }

  private get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** Number of addresses in the network. */
  get size(): bigint {
    return 1n << BigInt(this.bits - this.prefixLength);
  }

  contains(ip: IpAddress): boolean {
    if (ip.family !== this.family) return false;
    const shift = BigInt(this.bits - this.prefixLength);
    return ip.toBigInt() >> shift === this.network.toBigInt() >> shift;
  }

  overlaps(other: Cidr): boolean {
    return other.family === this.family && (this.contains(other.network) || other.contains(this.network));
  }

  /** The n-th address of the network (0 is the network address itself). */
  addressAt(n: bigint | number): IpAddress {
    const offset = BigInt(n);
    if (offset < 0n || offset >= this.size) {
      throw new InvalidValueError(`${this} has no address number ${offset}: it holds ${this.size} addresses.`);
    }
    return IpAddress.fromBigInt(this.network.toBigInt() + offset, this.family);
  }

  /** Whether `ip` may be given to a host: in the network, and for IPv4 neither network nor broadcast address. */
  isUsableHost(ip: IpAddress): boolean {
    if (!this.contains(ip)) return false;
    if (this.family === 6 || this.prefixLength >= 31) return true;
    const offset = ip.toBigInt() - this.network.toBigInt();
    return offset !== 0n && offset !== this.size - 1n;
  }

  toString(): string {
    return `${this.network}/${this.prefixLength}`;
  }
}
