import { Construct } from "constructs";
import { PeerSpec, Port } from "../net";
import {
  ExternalSpec, GuestSpec, HostSpec, PortForwardSpec, Protocol, SegmentSpec, ServiceSpec,
} from "../model";
import { Target } from "./backend";
import { Compute } from "./compute";
import { NetworkMode, Segmentation } from "./network-mode";

/** What the lab's children need from it: registration of what they add, with unique names. */
export interface LabRegistry {
  /** @internal */
  _claim(scope: Construct, name: string, what: string): void;
  /** @internal */
  _registerSegment(segment: LabSegment): void;
  /** @internal */
  _registerService(service: LabService): void;
  /** @internal */
  _registerPortForward(forward: LabPortForward): void;
}

export interface HostProps {
  /** How artifacts reach the host; required for Backend.hosts(), not allowed for emulated labs. */
  readonly target?: Target;
  /** The host's VXLAN endpoint address; required for Backend.hosts(). */
  readonly underlayAddress?: string;
  /** Real hosts: the device with the underlay address (NAT egress, floating IPs). @default "eth0" */
  readonly uplink?: string;
  /** Real hosts: a spare NIC on the physical LAN for a bridged network, e.g. "eth1". */
  readonly lanInterface?: string;
  /** libvirt URI. @default qemu+ssh://user@host/system for SSH targets, qemu:///system locally */
  readonly libvirtUri?: string;
  /** Docker daemon. @default ssh://user@host for SSH targets, the local socket otherwise */
  readonly dockerHost?: string;
}

/** A host of the lab (an emulated namespace or a real machine). */
export class LabHost extends Construct {
  constructor(scope: Construct, id: string, readonly spec: HostSpec) {
    super(scope, id);
  }
}

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
  readonly hosts?: ReadonlyArray<LabHost | string>;
  /** MTU of the underlay; the network gets this minus the VXLAN overhead. @default 1500 */
  readonly underlayMtu?: number;
  /**
   * Ports of the gateway host that guests may reach, e.g. `[Port.tcp(53)]` for a resolver there
   * (nat and routed networks). Everything else of the host, its addresses, its other networks
   * (docker0, virbr0, a management LAN), stays out of the guests' reach. @default none
   */
  readonly hostAccess?: readonly Port[];
}

export function segmentSpec(name: string, props: SegmentProps, tenant?: string): SegmentSpec {
  if (props.vni !== undefined && props.segmentation?.vni !== undefined && props.vni !== props.segmentation.vni) {
    throw new Error(`network '${name}' sets vni ${props.vni} and Segmentation.vxlan({ vni: ${props.segmentation.vni} }); give the VNI once.`);
  }
  return {
    name, path: "", tenant, cidr: props.cidr, ipv6Cidr: props.ipv6Cidr, mode: props.mode?.spec,
    segmentation: props.segmentation?.kind, vni: props.vni ?? props.segmentation?.vni, vlan: props.segmentation?.vlan,
    underlayMtu: props.underlayMtu, hosts: props.hosts?.map(nameOf), hostAccess: props.hostAccess?.map((p) => p.spec),
  };
}

/** An L2 segment: a bridge on each host it spans, joined by VXLAN, VLAN or the physical LAN. */
export class LabSegment extends Construct {
  constructor(scope: Construct, id: string, readonly spec: SegmentSpec) {
    super(scope, id);
  }

  /** The segment's name in the lab (tenant networks: `<tenant>-<network>`). */
  get segmentName(): string {
    return this.spec.name;
  }
}

export interface PortForwardProps {
  /** @default "tcp" */
  readonly protocol?: Protocol;
  /** Port on the gateway host's uplink address. */
  readonly hostPort: number;
  readonly to: LabGuest | string;
  readonly port: number;
}

export interface ServiceBackendProps {
  readonly guest: LabGuest | string;
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

/**
 * One tenant's network: an L2 segment with a subnet (and optionally an IPv6 one), spanning any set
 * of hosts, in one of the modes isolated, bridged, nat or routed.
 */
export class TenantNetwork extends LabSegment {
  constructor(scope: Construct, id: string, spec: SegmentSpec, private readonly registry: LabRegistry) {
    super(scope, id, spec);
  }

  /** Forwards a port of the gateway host to a guest on this (nat) network. */
  addPortForward(props: PortForwardProps): LabPortForward {
    const protocol = props.protocol ?? "tcp";
    const id = `forward-${protocol}-${props.hostPort}`;
    this.registry._claim(this, id, "port forward");
    const f = new LabPortForward(this, id, {
      path: "", segment: this.segmentName, protocol, hostPort: props.hostPort, guest: nameOf(props.to), port: props.port,
    });
    this.registry._registerPortForward(f);
    return f;
  }

  /** A virtual IP:port in front of weighted backends on this network, kube-proxy style. */
  addService(name: string, props: ServiceProps): LabService {
    this.registry._claim(this, name, "service");
    const svc = new LabService(this, name, {
      name, path: "", segment: this.segmentName, protocol: props.protocol ?? "tcp", vip: props.vip, port: props.port,
      nodePort: props.nodePort,
      backends: props.backends.map((b) => ({ guest: nameOf(b.guest), port: b.port, weight: b.weight })),
    });
    this.registry._registerService(svc);
    return svc;
  }
}

/** A tenant: owns networks; networks of different tenants never exchange a packet. */
export class Tenant extends Construct {
  constructor(scope: Construct, id: string, private readonly registry: LabRegistry) {
    super(scope, id);
  }

  addNetwork(name: string, props: SegmentProps): TenantNetwork {
    this.registry._claim(this, name, "network");
    const net = new TenantNetwork(this, name, segmentSpec(`${this.node.id}-${name}`, props, this.node.id), this.registry);
    this.registry._registerSegment(net);
    return net;
  }
}

export class LabService extends Construct {
  constructor(scope: Construct, id: string, readonly spec: ServiceSpec) {
    super(scope, id);
  }
}

export class LabPortForward extends Construct {
  constructor(scope: Construct, id: string, readonly spec: PortForwardSpec) {
    super(scope, id);
  }
}

export interface NicProps {
  /** The network (or segment) the NIC joins. */
  readonly segment: LabSegment | string;
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
  readonly host: LabHost | string;
  /** @default Compute.container() */
  readonly compute?: Compute;
  readonly nics?: readonly NicProps[];
  /** Sidecar-style interception of the guest's TCP (emulated guests). */
  readonly intercept?: InterceptProps;
  /** Security groups of all the guest's NICs. @default none: the guest is not filtered */
  readonly securityGroups?: ReadonlyArray<{ readonly node: { readonly id: string }; readonly peerSpec: PeerSpec }>;
}

export function guestSpec(name: string, props: GuestProps): GuestSpec {
  return {
    name, path: "", host: nameOf(props.host), compute: (props.compute ?? Compute.container()).spec,
    nics: (props.nics ?? []).map((n) => ({
      segment: typeof n.segment === "string" ? n.segment : n.segment.segmentName,
      address: n.address, address6: n.address6, floatingIp: n.floatingIp, mac: n.mac,
    })),
    intercept: props.intercept,
    securityGroups: props.securityGroups?.map((g) => g.node.id),
    securityGroupLabs: props.securityGroups?.map((g) => (g.peerSpec.kind === "group" ? g.peerSpec.lab : "")),
  };
}

/** A VM or container with NICs on networks. */
export class LabGuest extends Construct {
  constructor(scope: Construct, id: string, readonly spec: GuestSpec) {
    super(scope, id);
  }
}

export interface ExternalProps {
  /** Addresses it owns besides its fabric address, e.g. an admin net '203.0.113.0/24'. */
  readonly addresses?: readonly string[];
}

/** A node of the outside world on an emulated lab's underlay: a client, an admin, "the internet". */
export class LabExternal extends Construct {
  constructor(scope: Construct, id: string, readonly spec: ExternalSpec) {
    super(scope, id);
  }
}

export function nameOf(x: Construct | string): string {
  return typeof x === "string" ? x : x.node.id;
}
