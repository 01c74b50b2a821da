export const MAX_PORT = 65535;

/** Whether `n` is a TCP/UDP port number (1-65535). */
export function isPortNumber(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_PORT;
}

/** What a security group rule matches above IP: a protocol and its ports or ICMP type/code. */
export type PortSpec =
  | { readonly protocol: "tcp" | "udp"; readonly from: number; readonly to: number }
  | { readonly protocol: "icmp" | "icmpv6"; readonly type?: number; readonly code?: number }
  | { readonly protocol: "all" };

/**
 * Ports of a rule, made by static factories as in AWS CDK (`Port.tcp(22)`, `Port.tcpRange(8000, 8080)`).
 * Values are checked when the lab is validated, so a bad one is reported at the rule's construct path.
 */
export class Port {
  static tcp(port: number): Port {
    return new Port({ protocol: "tcp", from: port, to: port });
  }

  static tcpRange(from: number, to: number): Port {
    return new Port({ protocol: "tcp", from, to });
  }

  static allTcp(): Port {
    return new Port({ protocol: "tcp", from: 1, to: MAX_PORT });
  }

  static udp(port: number): Port {
    return new Port({ protocol: "udp", from: port, to: port });
  }

  static udpRange(from: number, to: number): Port {
    return new Port({ protocol: "udp", from, to });
  }

  static allUdp(): Port {
    return new Port({ protocol: "udp", from: 1, to: MAX_PORT });
  }

  /** ICMP (IPv4) of one type, e.g. 8 (echo request); any code. */
  static icmpType(type: number): Port {
    return new Port({ protocol: "icmp", type });
  }

  static icmpTypeAndCode(type: number, code: number): Port {
    return new Port({ protocol: "icmp", type, code });
  }

  static allIcmp(): Port {
    return new Port({ protocol: "icmp" });
  }

  /** ICMPv6 of one type, e.g. 128 (echo request). */
  static icmpv6Type(type: number): Port {
    return new Port({ protocol: "icmpv6", type });
  }

  static allIcmpv6(): Port {
    return new Port({ protocol: "icmpv6" });
  }

  static allTraffic(): Port {
    return new Port({ protocol: "all" });
  }

  private constructor(readonly spec: PortSpec) {}

  /** `tcp/22`, `tcp/8000-8080`, `icmp/8:0`, `all`. */
  toString(): string {
    return portText(this.spec);
  }
}

export function portText(p: PortSpec): string {
  switch (p.protocol) {
    case "all": return "all";
    case "tcp":
    case "udp": return p.from === p.to ? `${p.protocol}/${p.from}` : `${p.protocol}/${p.from}-${p.to}`;
    default: return p.type === undefined ? `${p.protocol}/all` : `${p.protocol}/${p.type}${p.code === undefined ? "" : `:${p.code}`}`;
  }
}
