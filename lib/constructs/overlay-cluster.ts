import { Construct } from "constructs";
import { OverlayClusterSpec, TunnelKind } from "../model";
import { PartProps, nameOf } from "./hosts";
import { LabRegistry, labOf, sameLab } from "./lab-registry";

/** The tunnels that join an overlay cluster's hosts. */
export class Tunnel {
  /** VXLAN (UDP 4789; 50 bytes of overhead over IPv4). */
  static vxlan(): Tunnel {
    return new Tunnel("vxlan");
  }

  /** GRE with a key (42 bytes of overhead over IPv4). */
  static gre(): Tunnel {
    return new Tunnel("gre");
  }

  private constructor(readonly kind: TunnelKind) {}
}

export interface OverlayClusterProps extends PartProps {
  /** The hosts whose Open vSwitch carries the cluster's networks (two or more). */
  readonly hosts: ReadonlyArray<{ readonly name: string } | string>;
  /** @default Tunnel.vxlan() */
  readonly tunnel?: Tunnel;
  /**
   * L2 population and the ARP responder: the lab knows every guest's MAC, address and host, so the
   * unicast flows are installed up front and ARP is answered on the guest's own host; no broadcast
   * crosses a tunnel for them. Off, the tunnel bridge learns (`learn()`) from what arrives. @default true
   */
  readonly l2Population?: boolean;
}

/**
 * Tenant networks on Open vSwitch across a set of hosts, as clouds run them: per host an integration
 * bridge (a local VLAN per network) and a tunnel bridge with a VXLAN or GRE port to each other host,
 * and the tunnel bridge's flow tables (classify, unicast/flood split, tunnel id to local VLAN, learn,
 * ARP responder, flood lists from the topology). A network joins it with `cluster`; its guests,
 * routers and security groups stay as they are (each network keeps a Linux bridge per host, where
 * security groups apply, plugged into the integration bridge: Neutron's hybrid plug).
 */
export class OverlayCluster extends Construct {
  readonly spec: OverlayClusterSpec;
  /** @internal */
  readonly _lab: LabRegistry;

  constructor(scope: Construct, id: string, props: OverlayClusterProps) {
    const lab = labOf(scope, id, props.lab, "cluster");
    const name = props.name ?? id;
    const path = `${scope.node.path}/${id}`;
    for (const h of props.hosts) sameLab(lab, h, path, "host");
    super(lab._claim("cluster", name, scope, id), id);
    this._lab = lab;
    this.spec = { name, path: "", hosts: props.hosts.map(nameOf), tunnel: props.tunnel?.kind, l2Population: props.l2Population };
    lab._add("cluster", name, this);
  }

  /** The cluster's name in the lab. */
  get name(): string {
    return this.spec.name;
  }
}
