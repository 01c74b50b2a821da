import { Construct } from "constructs";
import { Port } from "../net";
import { PortForwardSpec, Protocol, SegmentSpec, ServiceSpec } from "../model";
import { PartProps, nameOf } from "./hosts";
import { LabRegistry, labOf, sameLab } from "./lab-registry";
import { NetworkMode, Segmentation } from "./network-mode";
import type { OverlayCluster } from "./overlay-cluster";

export interface SegmentProps {
  /** The subnet, e.g. '10.10.0.0/24' (or an IPv6 one). */
  readonly cidr: string;
  /** IPv6 subnet for dual stack next to an IPv4 `cidr`, e.g. 'fd00:10::/64'. */
  readonly ipv6Cidr?: string;
  /** @default NetworkMode.isolated() */
  readonly mode?: NetworkMode;
  /** @default Segmentation.vxlan() */
  readonly segmentation?: Segmentation;
  /** VXLAN network identifier (1-16,777,215); same as Segmentation.vxlan({ vni }). @default allocated from 1000 */
  readonly vni?: number;
  /** Hosts to span besides those of its guests. */
  readonly hosts?: ReadonlyArray<{ readonly name: string } | string>;
  /** MTU of the underlay; the network gets this minus the VXLAN overhead. @default 1500 */
  readonly underlayMtu?: number;
  /**
   * Ports of the gateway host that guests may reach, e.g. `[Port.tcp(53)]` for a resolver there
   * (nat and routed networks). Everything else of the host, its addresses, its other networks
   * (docker0, virbr0, a management LAN), stays out of the guests' reach. @default none
   */
  readonly hostAccess?: readonly Port[];
  /**
   * The overlay cluster that carries the network across hosts on Open vSwitch (VXLAN-segmented
   * networks). @default none: a Linux VXLAN device per host
   */
  readonly cluster?: OverlayCluster | string;
}

function segmentSpec(path: string, name: string, props: SegmentProps, tenant?: string): SegmentSpec {
  if (props.vni !== undefined && props.segmentation?.vni !== undefined && props.vni !== props.segmentation.vni) {
    throw new Error(`[${path}] network '${name}' sets vni ${props.vni} and Segmentation.vxlan({ vni: ${props.segmentation.vni} }); give the VNI once.`);
  }
  return {
    name, path: "", tenant, cidr: props.cidr, ipv6Cidr: props.ipv6Cidr, mode: props.mode?.spec,
    segmentation: props.segmentation?.kind, vni: props.vni ?? props.segmentation?.vni, vlan: props.segmentation?.vlan,
    underlayMtu: props.underlayMtu, hosts: props.hosts?.map(nameOf), hostAccess: props.hostAccess?.map((p) => p.spec),
    cluster: props.cluster === undefined ? undefined : nameOf(props.cluster),
  };
}

/**
 * An L2 network of the lab: a bridge on each host it spans, joined by VXLAN, VLAN or the physical
 * LAN. Either a tenant's (`TenantNetwork`) or the lab's own (`Segment`).
 */
export abstract class Network extends Construct {
  readonly spec: SegmentSpec;
  /** @internal */
  readonly _lab: LabRegistry;
  /** @internal The owning tenant (tenant networks). */
  readonly _tenant?: Tenant;

  protected constructor(scope: Construct, id: string, lab: LabRegistry, name: string, props: SegmentProps, tenant?: Tenant) {
    const path = `${scope.node.path}/${id}`;
    const free = lab._claim("segment", name, scope, id);
    for (const h of props.hosts ?? []) sameLab(lab, h, path, "host");
    if (props.cluster !== undefined) sameLab(lab, props.cluster, path, "cluster");
    const spec = segmentSpec(path, name, props, tenant?.name);
    super(free, id);
    this._lab = lab;
    this._tenant = tenant;
    this.spec = spec;
    lab._add("segment", name, this);
  }

  /** The network's name in the lab (tenant networks: `<tenant>-<network>`). */
  get segmentName(): string {
    return this.spec.name;
  }

  /** Same as `segmentName`: what guests' NICs and other parts refer to. */
  get name(): string {
    return this.spec.name;
  }

  /** Forwards a port of the gateway host to a guest on this (nat) network. */
  addPortForward(props: PortForwardProps): PortForward {
    return new PortForward(this, `forward-${props.protocol ?? "tcp"}-${props.hostPort}`, { ...props, network: this });
  }

  /** A virtual IP:port in front of weighted backends on this network, kube-proxy style. */
  addService(name: string, props: ServiceProps): Service {
    return new Service(this, name, { ...props, network: this });
  }
}

export interface SegmentConstructProps extends SegmentProps, PartProps {}

/** A network of the lab outside any tenant (tenant "default"). */
export class Segment extends Network {
  /** A network of `props.lab` (or use `lab.addSegment(name, props)`). */
  constructor(scope: Construct, id: string, props: SegmentConstructProps) {
    super(scope, id, labOf(scope, id, props.lab, "segment"), props.name ?? id, props);
  }
}

export interface TenantProps extends PartProps {}

/** A tenant: owns networks; networks of different tenants never exchange a packet. */
export class Tenant extends Construct {
  /** The tenant's name in the lab. */
  readonly name: string;
  /** @internal */
  readonly _lab: LabRegistry;

  /** A tenant of `props.lab` (or use `lab.addTenant(name)`). */
  constructor(scope: Construct, id: string, props: TenantProps = {}) {
    const lab = labOf(scope, id, props.lab, "tenant");
    const name = props.name ?? id;
    super(lab._claim("tenant", name, scope, id), id);
    this._lab = lab;
    this.name = name;
    lab._add("tenant", name, this);
  }

  /** A network of this tenant, as a child of the tenant. */
  addNetwork(name: string, props: SegmentProps): TenantNetwork {
    return new TenantNetwork(this, name, { ...props, tenant: this });
  }
}

export interface TenantNetworkProps extends SegmentProps {
  /** The tenant that owns the network. */
  readonly tenant: Tenant;
  /** Its name in the tenant; the lab knows it as `<tenant>-<name>`. @default the construct id */
  readonly name?: string;
}

/**
 * One tenant's network: an L2 segment with a subnet (and optionally an IPv6 one), spanning any set
 * of hosts, in one of the modes isolated, bridged, nat or routed.
 */
export class TenantNetwork extends Network {
  /** A network of `props.tenant` (or use `tenant.addNetwork(name, props)`). */
  constructor(scope: Construct, id: string, props: TenantNetworkProps) {
    super(scope, id, props.tenant._lab, `${props.tenant.name}-${props.name ?? id}`, props, props.tenant);
  }
}

export interface PortForwardProps {
  /** @default "tcp" */
  readonly protocol?: Protocol;
  /** Port on the gateway host's uplink address. */
  readonly hostPort: number;
  readonly to: { readonly name: string } | string;
  readonly port: number;
}

export interface PortForwardConstructProps extends PortForwardProps {
  /** The (nat) network whose gateway host forwards the port. */
  readonly network: Network;
}

/** A port of a network's gateway host forwarded to a guest (DNAT). */
export class PortForward extends Construct {
  readonly spec: PortForwardSpec;

  /** A forward on `props.network` (or use `network.addPortForward(props)`). */
  constructor(scope: Construct, id: string, props: PortForwardConstructProps) {
    const lab = props.network._lab;
    const free = lab._claim("port forward", id, scope, id);
    sameLab(lab, props.to, `${scope.node.path}/${id}`, "guest");
    super(free, id);
    this.spec = {
      path: "", segment: props.network.segmentName, protocol: props.protocol ?? "tcp", hostPort: props.hostPort,
      guest: nameOf(props.to), port: props.port,
    };
    lab._add("port forward", undefined, this);
  }
}

export interface ServiceBackendProps {
  readonly guest: { readonly name: string } | string;
  readonly port: number;
  /** Relative share of new connections. @default 1 */
  readonly weight?: number;
}

export interface ServiceProps {
  /** Virtual IP, outside every subnet of the lab (like a Kubernetes ClusterIP). */
  readonly vip: string;
  readonly port: number;
  /** @default "tcp" */
  readonly protocol?: Protocol;
  readonly backends: readonly ServiceBackendProps[];
  /** Also reachable at this port on the gateway host's uplink address, like a NodePort. */
  readonly nodePort?: number;
}

export interface ServiceConstructProps extends ServiceProps {
  /** The (nat or routed) network whose gateway host answers the VIP. */
  readonly network: Network;
  /** The service's name in the lab. @default the construct id */
  readonly name?: string;
}

/** A virtual IP:port in front of weighted backends, kube-proxy style. */
export class Service extends Construct {
  readonly spec: ServiceSpec;

  /** A service on `props.network` (or use `network.addService(name, props)`). */
  constructor(scope: Construct, id: string, props: ServiceConstructProps) {
    const lab = props.network._lab;
    const name = props.name ?? id;
    const free = lab._claim("service", name, scope, id);
    for (const b of props.backends) sameLab(lab, b.guest, `${scope.node.path}/${id}`, "guest");
    super(free, id);
    this.spec = {
      name, path: "", segment: props.network.segmentName, protocol: props.protocol ?? "tcp", vip: props.vip, port: props.port,
      nodePort: props.nodePort,
      backends: props.backends.map((b) => ({ guest: nameOf(b.guest), port: b.port, weight: b.weight })),
    };
    lab._add("service", name, this);
  }

  /** The service's name in the lab. */
  get name(): string {
    return this.spec.name;
  }
}
