/** The other side of a security group rule. */
export type PeerSpec =
  | { readonly kind: "cidr"; readonly cidr: string; readonly family: 4 | 6 }
  | { readonly kind: "any"; readonly family: 4 | 6 }
  /** Members of a security group (`lab` is the owning lab's path, for cross-lab checks). */
  | { readonly kind: "group"; readonly group: string; readonly lab: string };

/** Anything that can stand on the other side of a rule: an address range or a security group. */
export interface IPeer {
  readonly peerSpec: PeerSpec;
  toString(): string;
}

/** Address peers, made by static factories as in AWS CDK. */
export class Peer implements IPeer {
  static ipv4(cidr: string): IPeer {
    return new Peer({ kind: "cidr", cidr, family: 4 });
  }

  static ipv6(cidr: string): IPeer {
    return new Peer({ kind: "cidr", cidr, family: 6 });
  }

  static anyIpv4(): IPeer {
    return new Peer({ kind: "any", family: 4 });
  }

  static anyIpv6(): IPeer {
    return new Peer({ kind: "any", family: 6 });
  }

  private constructor(readonly peerSpec: PeerSpec) {}

  toString(): string {
    return peerText(this.peerSpec);
  }
}

export function peerText(p: PeerSpec): string {
  switch (p.kind) {
    case "cidr": return p.cidr;
    case "any": return p.family === 4 ? "0.0.0.0/0" : "::/0";
    case "group": return `group ${p.group}`;
  }
}
