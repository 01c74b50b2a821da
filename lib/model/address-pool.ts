import { Cidr, IpAddress } from "../net";

/** Auto-allocated guest addresses start here; lower ones stay free for gateways and such. */
export const FIRST_AUTO_HOST_OFFSET = 10n;
/** Subnets smaller than this start right after the gateway (.2), or a /28 would hold only 4 guests. */
const SMALL_SUBNET = 32n;
/** Allocation gives up after this many candidates (a /64 is not searched to its end). */
const SEARCH_LIMIT = 1n << 20n;

/** The addresses taken in one subnet, and who took them. */
export class AddressPool {
  private readonly taken = new Map<string, string>();
  /** Every candidate below this one is taken or unusable (addresses are never released), so allocation resumes here. */
  private cursor = 0n;

  constructor(readonly cidr: Cidr) {}

  /** Who holds `ip`, if anyone. */
  holder(ip: IpAddress): string | undefined {
    return this.taken.get(ip.toString());
  }

  claim(ip: IpAddress, who: string): void {
    this.taken.set(ip.toString(), who);
  }

  /** The lowest free usable address from .10 (.2 in small subnets) upwards, claimed for `who`; undefined when full. */
  allocate(who: string): IpAddress | undefined {
    const limit = this.cidr.size < SEARCH_LIMIT ? this.cidr.size : SEARCH_LIMIT;
    const first = this.cidr.size < SMALL_SUBNET ? 2n : FIRST_AUTO_HOST_OFFSET;
    for (let n = this.cursor > first ? this.cursor : first; n < limit; n++) {
      const ip = this.cidr.addressAt(n);
      if (this.cidr.isUsableHost(ip) && !this.taken.has(ip.toString())) {
        this.cursor = n + 1n;
        this.claim(ip, who);
        return ip;
      }
    }
    return undefined;
  }
}
