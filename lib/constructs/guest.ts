import { Construct } from "constructs";
import { PeerSpec } from "../net";
import { GuestSpec } from "../model";
import { Compute } from "./compute";
import { Host, PartProps, nameOf } from "./hosts";
import { LabRegistry, labOf, sameLab } from "./lab-registry";
import { Network } from "./networks";

export interface NicProps {
  /** The network (or segment) the NIC joins. */
  readonly segment: Network | string;
  /** Address without mask, inside the subnet. @default the next free one from .10 */
  readonly address?: string;
  /** IPv6 address on a dual-stack network. @default the next free one from ::a */
  readonly address6?: string;
  /** A 1:1 NAT address on the external network (nat networks). */
  readonly floatingIp?: string;
  /** @default a stable MAC derived from lab, guest and NIC index */
  readonly mac?: string;
}

export interface InterceptProps {
  /** Outbound TCP goes to this local port. */
  readonly outboundPort?: number;
  /** Inbound TCP goes to this local port. */
  readonly inboundPort?: number;
  /** The proxy's uid: its own connections are not redirected. */
  readonly proxyUid: number;
}

export interface GuestProps {
  readonly host: Host | string;
  /** @default Compute.container() */
  readonly compute?: Compute;
  readonly nics?: readonly NicProps[];
  /** Sidecar-style interception of the guest's TCP (emulated guests). */
  readonly intercept?: InterceptProps;
  /** Security groups of all the guest's NICs. @default none: the guest is not filtered */
  readonly securityGroups?: ReadonlyArray<{ readonly peerSpec: PeerSpec }>;
}

export interface GuestConstructProps extends GuestProps, PartProps {}

/** A VM or container with NICs on networks. */
export class Guest extends Construct {
  readonly spec: GuestSpec;
  /** @internal */
  readonly _lab: LabRegistry;

  /**
   * A guest of `props.lab` (or use `lab.addGuest(name, props)`). Without `lab`, the guest belongs to
   * the lab of its host (when given as a Host) or to the Lab that encloses its scope.
   */
  constructor(scope: Construct, id: string, props: GuestConstructProps) {
    const lab = labOf(scope, id, props.lab ?? (typeof props.host === "string" ? undefined : props.host._lab), "guest");
    const name = props.name ?? id;
    const path = `${scope.node.path}/${id}`;
    const free = lab._claim("guest", name, scope, id);
    sameLab(lab, props.host, path, "host");
    for (const n of props.nics ?? []) sameLab(lab, n.segment, path, "network");
    const groups = (props.securityGroups ?? []).map((g, i) => {
      const p = g.peerSpec;
      if (p.kind !== "group") throw new Error(`[${path}] securityGroups[${i}] is ${String(g)}, not a security group; pass SecurityGroup constructs.`);
      return p;
    });
    super(free, id);
    this._lab = lab;
    this.spec = {
      name, path: "", host: nameOf(props.host), compute: (props.compute ?? Compute.container()).spec,
      nics: (props.nics ?? []).map((n) => ({
        segment: nameOf(n.segment), address: n.address, address6: n.address6, floatingIp: n.floatingIp, mac: n.mac,
      })),
      intercept: props.intercept,
      securityGroups: props.securityGroups && groups.map((p) => p.group),
      securityGroupLabs: props.securityGroups && groups.map((p) => p.lab),
    };
    lab._add("guest", name, this);
  }

  /** The guest's name in the lab. */
  get name(): string {
    return this.spec.name;
  }
}
