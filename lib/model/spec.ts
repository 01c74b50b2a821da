import { PeerSpec, PortSpec } from "../net";

/**
 * The lab as the user described it: plain data, unvalidated. Constructs fill it in;
 * `resolveLab` checks it and turns it into a {@link ResolvedLab}.
 */

/** How rendered host artifacts reach a host. */
export type TargetSpec =
  | { readonly kind: "emulated" }
  | { readonly kind: "local" }
  | {
      readonly kind: "ssh";
      readonly host: string;
      readonly user: string;
      readonly port: number;
      /** Path of the private key file on the machine that runs Terraform. */
      readonly privateKeyFile: string;
      /** Run the scripts through `sudo -n` (the user is not root). */
      readonly sudo: boolean;
    };

/** Where hosts and guests live. */
export type BackendSpec =
  | {
      readonly kind: "emulated";
      /** Underlay network that joins the emulated hosts. */
      readonly fabricCidr: string;
    }
  | { readonly kind: "hosts" };

export interface HostSpec {
  readonly name: string;
  /** Construct path (or another locator) used in error messages. */
  readonly path: string;
  /** Required for the `hosts` backend; emulated hosts are always `emulated`. */
  readonly target?: TargetSpec;
  /** The host's address on the underlay (VXLAN endpoint); allocated from the fabric when emulated. */
  readonly underlayAddress?: string;
  /** Real hosts: the device that carries the underlay address. @default "eth0" */
  readonly uplink?: string;
  /** Real hosts: a spare NIC on the physical LAN, enslaved to a bridged-mode segment. */
  readonly lanInterface?: string;
  /** libvirt connection URI for VMs on this host. @default derived from the target */
  readonly libvirtUri?: string;
  /** Docker daemon address for containers on this host. @default derived from the target */
  readonly dockerHost?: string;
}

/** How a network reaches beyond its own L2 segment. */
export type NetworkModeSpec =
  /** Host-only: guests reach each other, nothing else. */
  | { readonly kind: "isolated" }
  /** The hosts' uplinks join the bridge: guests sit on the physical segment (no overlay). */
  | { readonly kind: "bridged" }
  /** A gateway on one host, masquerading out of its uplink; guests get a default route to it. */
  | { readonly kind: "nat"; readonly gateway?: string; readonly gatewayHost?: string }
  /** A gateway without NAT: the lab's hosts and externals get routes to the subnet. */
  | { readonly kind: "routed"; readonly gateway?: string; readonly gatewayHost?: string };

export type SegmentationKind = "vxlan" | "vlan";

/** The tunnel an overlay cluster's hosts are joined by. */
export type TunnelKind = "vxlan" | "gre";

/**
 * A set of hosts whose tenant networks run on Open vSwitch: an integration bridge and a tunnel
 * bridge per host, tunnels between the hosts, and flow tables that classify, learn and flood.
 */
export interface OverlayClusterSpec {
  readonly name: string;
  readonly path: string;
  readonly hosts: readonly string[];
  /** @default "vxlan" */
  readonly tunnel?: TunnelKind;
  /** Unicast flows and ARP answers installed from the lab's knowledge, not learned. @default true */
  readonly l2Population?: boolean;
}

export interface SegmentSpec {
  readonly name: string;
  readonly path: string;
  /** The tenant that owns the segment; segments of different tenants never exchange a packet. */
  readonly tenant?: string;
  /** Where the tenant is (for its errors). @default the segment's parent path */
  readonly tenantPath?: string;
  /** IPv4 or IPv6 subnet of the segment. */
  readonly cidr: string;
  /** Optional IPv6 subnet for dual stack (when `cidr` is IPv4). */
  readonly ipv6Cidr?: string;
  /** @default isolated */
  readonly mode?: NetworkModeSpec;
  /** How the segment's bridges on different hosts are joined. @default "vxlan" */
  readonly segmentation?: SegmentationKind;
  /** VXLAN network identifier. @default allocated from 1000 upwards */
  readonly vni?: number;
  /** 802.1Q tag on the hosts' uplinks (segmentation "vlan"). @default allocated from 100 upwards */
  readonly vlan?: number;
  /** Hosts the segment spans besides those of its guests. */
  readonly hosts?: readonly string[];
  /** Underlay MTU; the segment's MTU is this minus the VXLAN overhead. @default 1500 */
  readonly underlayMtu?: number;
  /** Ports of the gateway host its guests may reach (nat and routed segments). @default none: guests never reach their host */
  readonly hostAccess?: readonly PortSpec[];
  /** The overlay cluster (Open vSwitch) that carries it across hosts. @default none: a VXLAN device per host */
  readonly cluster?: string;
}

export interface NicSpec {
  readonly segment: string;
  /** Address in the segment's subnet, without mask. @default the next free address */
  readonly address?: string;
  /** IPv6 address on a dual-stack segment. @default the next free one */
  readonly address6?: string;
  /** A 1:1 NAT address on the external network (the gateway host's uplink subnet). */
  readonly floatingIp?: string;
  /** @default derived from the lab, guest and NIC index (52:54:00:xx:xx:xx) */
  readonly mac?: string;
}

export interface VmSpec {
  /** Base image: a URL or a path on the host, e.g. a Debian genericcloud qcow2. */
  readonly image: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** Login user written by cloud-init. */
  readonly user: string;
  /** Public SSH key for the user (one line). */
  readonly sshPublicKey?: string;
  /** libvirt storage pool for the disks. */
  readonly pool: string;
}

/** Docker's network modes. `container` shares the network namespace of another guest. */
export type ContainerNetworkMode =
  | { readonly kind: "bridge" }
  | { readonly kind: "host" }
  | { readonly kind: "none" }
  | { readonly kind: "container"; readonly guest: string };

export interface ContainerSpec {
  readonly image: string;
  /** @default bridge (the guest's NICs on lab segments) */
  readonly networkMode?: ContainerNetworkMode;
}

export type ComputeSpec =
  | { readonly kind: "vm"; readonly vm: VmSpec }
  | { readonly kind: "container"; readonly container: ContainerSpec }
  /** A network namespace with veth NICs, made by the lab itself on any host (as Mininet's hosts are). */
  | { readonly kind: "namespace" };

/** Sidecar-style interception: the guest's TCP goes to a local proxy, except the proxy's own. */
export interface InterceptSpec {
  /** Where outbound TCP is redirected. */
  readonly outboundPort?: number;
  /** Where inbound TCP is redirected. */
  readonly inboundPort?: number;
  /** The proxy runs as this uid; its own connections are not redirected. */
  readonly proxyUid: number;
}

export interface GuestSpec {
  readonly name: string;
  readonly path: string;
  readonly host: string;
  readonly compute: ComputeSpec;
  readonly nics: readonly NicSpec[];
  readonly intercept?: InterceptSpec;
  /** Security groups all the guest's NICs belong to. */
  readonly securityGroups?: readonly string[];
  /** The lab (path) each of those groups belongs to, to refuse another lab's group. */
  readonly securityGroupLabs?: readonly string[];
}

export interface SecurityRuleSpec {
  readonly path: string;
  readonly peer: PeerSpec;
  readonly port: PortSpec;
  readonly description?: string;
  /** Written by the other side of a `connections` call: matters only where egress is restricted. */
  readonly implied?: boolean;
}

export interface SecurityGroupSpec {
  readonly name: string;
  readonly path: string;
  /** Egress is open unless this is false or an egress rule is added. @default true */
  readonly allowAllOutbound?: boolean;
  readonly ingress: readonly SecurityRuleSpec[];
  readonly egress: readonly SecurityRuleSpec[];
}

/** A node of the outside world on the underlay (emulated labs): a client, an admin, "the internet". */
export interface ExternalSpec {
  readonly name: string;
  readonly path: string;
  /** Extra addresses it owns (e.g. an admin net), routed to it by every lab host. */
  readonly addresses?: readonly string[];
}

export type Protocol = "tcp" | "udp";

/** A host port on the gateway host forwarded to a guest port. */
export interface PortForwardSpec {
  readonly path: string;
  readonly segment: string;
  readonly protocol: Protocol;
  readonly hostPort: number;
  readonly guest: string;
  readonly port: number;
}

export interface BackendRefSpec {
  readonly guest: string;
  readonly port: number;
  /** Relative share of new connections. @default 1 */
  readonly weight?: number;
}

/** A virtual IP:port in front of weighted backends, kube-proxy style. */
export interface ServiceSpec {
  readonly name: string;
  readonly path: string;
  readonly segment: string;
  readonly protocol: Protocol;
  /** Virtual address, outside every subnet of the lab. */
  readonly vip: string;
  readonly port: number;
  readonly backends: readonly BackendRefSpec[];
  /** Also reachable at this port on the gateway host's uplink address. */
  readonly nodePort?: number;
}

/** One class of an HTB tree. Rates in bits per second, sizes in bytes. */
export interface QosClassSpec {
  readonly name: string;
  readonly path: string;
  /** Guaranteed. */
  readonly rate: number;
  /** What it may borrow up to. @default its parent's ceil (the root's: its rate) */
  readonly ceil?: number;
  /** 0 (first) to 7: classes of a lower number get spare bandwidth first. @default 0 */
  readonly prio?: number;
  /** @default rate / 250 (HZ), at least two full frames */
  readonly burst?: number;
  /** @default ceil / 250, at least two full frames */
  readonly cburst?: number;
  /** Bytes a class sends per round when borrowing, 1,500-60,000. @default proportional to its rate */
  readonly quantum?: number;
  /** A leaf's queue. @default a bfifo of 20 ms at the class's ceil */
  readonly queue?: QosQueueSpec;
  readonly children?: readonly QosClassSpec[];
  /** Traffic sent to this class (a leaf): any match. */
  readonly matches?: readonly QosMatchSpec[];
}

/** What a u32 filter matches: every field given must match. */
export interface QosMatchSpec {
  readonly source?: string;
  /** A guest's IPv4 addresses as the source (each its own filter). */
  readonly sourceGuest?: string;
  readonly destination?: string;
  readonly destinationGuest?: string;
  readonly protocol?: "tcp" | "udp" | "icmp";
  readonly destinationPort?: number;
  readonly sourcePort?: number;
}

/** A queue: an HTB leaf's, or a policy's whole (classless). */
export type QosQueueSpec =
  | { readonly kind: "bfifo"; readonly limitBytes?: number }
  | { readonly kind: "pfifo"; readonly limitPackets: number }
  | { readonly kind: "sfq"; readonly perturbSeconds?: number }
  | { readonly kind: "fq_codel"; readonly targetMs?: number; readonly intervalMs?: number };

/** Link impairments (netem). Rates in bits per second. */
export interface QosImpairSpec {
  readonly delayMs?: number;
  readonly jitterMs?: number;
  readonly lossPercent?: number;
  readonly rate?: number;
}

export type QosShapeSpec =
  | { readonly kind: "htb"; readonly root: QosClassSpec; readonly defaultClass: string; readonly oversubscribe?: boolean }
  | { readonly kind: "tbf"; readonly rate: number; readonly burst?: number; readonly latencyMs?: number }
  | { readonly kind: "queue"; readonly queue: QosQueueSpec }
  /** An OpenFlow meter: traffic above `rate` dropped (Open vSwitch ports only). */
  | { readonly kind: "meter"; readonly rate: number; readonly burstBits?: number }
  | ({ readonly kind: "netem" } & QosImpairSpec);

/** Where a policy applies: a guest NIC, in the direction seen from the guest. */
export interface QosTargetSpec {
  /** A guest's NIC; or, with `tenant`, every NIC of the tenant's guests on its networks that has no policy of its own in this direction. */
  readonly guest?: string;
  readonly tenant?: string;
  /** An Open vSwitch port: the integration bridge's port of this cluster network on `host`. */
  readonly network?: string;
  /** With `network`, the switch port's host; alone, the host's uplink ("egress": what it sends out, "ingress": what it takes in). */
  readonly host?: string;
  /** @default 0 */
  readonly nic?: number;
  /** "ingress": traffic to the guest; "egress": traffic from it. */
  readonly direction: "ingress" | "egress";
}

export interface QosPolicySpec {
  readonly name: string;
  readonly path: string;
  readonly shape: QosShapeSpec;
  readonly targets: readonly QosTargetSpec[];
}

/**
 * How a pod network joins its nodes' pod subnets: Flannel's VXLAN (a VTEP per node, every remote
 * entry written from the topology) or host-gw (a route per remote subnet via its node), or Calico's
 * routing (a /32 per pod, blocks exchanged over BGP by BIRD; IPIP or VXLAN where the underlay
 * cannot route pod addresses).
 */
export type PodBackendSpec =
  | { readonly kind: "flannel-vxlan"; /** @default 1 */ readonly vni?: number; /** @default 8472 (Flannel's) */ readonly port?: number }
  | { readonly kind: "flannel-host-gw" }
  | {
      readonly kind: "calico";
      /** What carries pod packets between nodes. @default "none": the underlay routes them as they are */
      readonly encapsulation?: "none" | "ipip" | "vxlan";
      /** Encapsulate only to nodes outside the sender's underlay subnet (`underlayCidr`). @default false */
      readonly crossSubnet?: boolean;
      /** @default 64512 (Calico's) */
      readonly asNumber?: number;
      /** Nodes that reflect routes to all others; none means a full mesh of BGP sessions. @default [] */
      readonly routeReflectors?: readonly string[];
    };

/** A pod: a network namespace on a node, plumbed as a CNI plugin plumbs a pod's sandbox. */
export interface PodSpec {
  readonly name: string;
  readonly path: string;
  readonly node: string;
  /** Kubernetes-style labels (key: value), for network policies' selectors. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A pod network across nodes: one cluster CIDR, a subnet of it per node, and a backend. */
export interface PodNetworkSpec {
  readonly name: string;
  readonly path: string;
  /** The cluster CIDR (IPv4), e.g. "10.244.0.0/16". */
  readonly cidr: string;
  /** The lab's hosts that are nodes, in order: node i gets the i-th subnet. */
  readonly nodes: readonly string[];
  /** Mask length of each node's subnet. @default 24 (Flannel's SubnetLen), 26 for Calico (its block size) */
  readonly nodeSubnetPrefix?: number;
  readonly backend: PodBackendSpec;
  /** @default 1500 */
  readonly underlayMtu?: number;
  /** The L2 segment the nodes share (host-gw, Calico's cross-subnet). @default the emulated fabric; none on real hosts */
  readonly underlayCidr?: string;
  readonly pods: readonly PodSpec[];
}

export interface LabSpec {
  readonly name: string;
  readonly path: string;
  /** Prefix of every kernel object the lab owns. @default the lab name, up to 6 characters */
  readonly prefix?: string;
  readonly backend: BackendSpec;
  readonly hosts: readonly HostSpec[];
  readonly segments: readonly SegmentSpec[];
  readonly guests: readonly GuestSpec[];
  readonly externals?: readonly ExternalSpec[];
  readonly portForwards?: readonly PortForwardSpec[];
  readonly services?: readonly ServiceSpec[];
  readonly securityGroups?: readonly SecurityGroupSpec[];
  readonly clusters?: readonly OverlayClusterSpec[];
  readonly qosPolicies?: readonly QosPolicySpec[];
  readonly podNetworks?: readonly PodNetworkSpec[];
}
