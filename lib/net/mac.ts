import { createHash } from "crypto";
import { InvalidValueError } from "./errors";

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A unicast Ethernet address, lower-case and colon separated. */
export class MacAddress {
  static parse(text: string): MacAddress {
    const mac = String(text).toLowerCase().replace(/-/g, ":");
    if (!MAC_RE.test(mac)) {
      throw new InvalidValueError(`'${text}' is not a MAC address such as '52:54:00:12:34:56'.`);
    }
    if (parseInt(mac.slice(0, 2), 16) & 1) {
      throw new InvalidValueError(`'${text}' is a multicast MAC address; a NIC needs a unicast one (even first byte).`);
    }
    return new MacAddress(mac);
  }

  /**
   * A stable MAC under QEMU's prefix 52:54:00, derived from `seed`: the same NIC keeps
   * its MAC across synths, so DHCP leases and neighbour tables stay valid.
   */
  static derive(seed: string): MacAddress {
    const h = createHash("sha256").update(seed).digest();
    const tail = [h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, "0")).join(":");
    return new MacAddress(`52:54:00:${tail}`);
  }

  private constructor(private readonly value: string) {}

  toString(): string {
    return this.value;
  }
}
