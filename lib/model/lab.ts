import { Cidr, IpAddress, MacAddress, PortSpec, Rate } from "../net";
import { PodNetwork } from "./pod-network";
import { BackendSpec, ComputeSpec, InterceptSpec, NetworkModeSpec, Protocol, TargetSpec } from "./spec";

/** VXLAN adds 50 bytes over IPv4 (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
export const VXLAN_OVERHEAD_IPV4 = 50;
/** ... and 70 over IPv6 (outer IP 40). */
export const VXLAN_OVERHEAD_IPV6 = 70;
/** GRE (gretap) with a key adds 42: outer IP 20 + GRE 4 + key 4 + inner Ethernet 14. */
export const GRE_OVERHEAD_IPV4 = 42;
/** ... and 62 over IPv6. */
export const GRE_OVERHEAD_IPV6 = 62;
/** Local VLAN tags an integration bridge hands out, one per network on the host. */
export const LOCAL_VLAN_MAX = 4094;
export const VNI_MIN = 1;
export const VNI_MAX = 16_777_215;
/** Smallest MTU every IPv4 host must accept (RFC 791); the kernel allows 68, but little works below 576. */
export const MIN_IPV4_MTU = 576;
/** IPv6 needs at least 1280 (RFC 8200). */
export const MIN_IPV6_MTU = 1280;
export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;
/** Tenant of segments added without one. */
export const DEFAULT_TENANT = "default";

/** A validated lab: every value parsed, every name generated, every id allocated. */
export interface ResolvedLab {
  readonly name: string;
  readonly path: string;
  readonly prefix: string;
  readonly backend: BackendSpec;
  /** Emulated backend only: the namespace and bridge that join the hosts. */
  readonly fabric?: { readonly netns: string; readonly cidr: Cidr };
  readonly hosts: readonly Host[];
  readonly segments: readonly Segment[];
  readonly guests: readonly Guest[];
  readonly externals: readonly External[];
  readonly portForwards: readonly PortForward[];
  readonly services: readonly Service[];
  readonly securityGroups: readonly ResolvedSecurityGroup[];
  readonly clusters: readonly OverlayCluster[];
  readonly qosPolicies: readonly QosPolicy[];
  readonly podNetworks: readonly PodNetwork[];
}

/** An HTB class with every size set: tc's `classid <major>:<minor>` under `parent`'s minor (0: the root qdisc). */
export interface QosClass {
  readonly name: string;
  readonly minor: number;
  readonly parent: number;
  readonly rate: Rate;
  readonly ceil: Rate;
  readonly prio: number;
  readonly burst: number;
  readonly cburst: number;
  readonly quantum: number;
  readonly leaf: boolean;
  /** A leaf's queue, every size set. */
  readonly queue?: QosQueue;
}

/** A queue with every size set. */
export type QosQueue =
  | { readonly kind: "bfifo"; readonly limitBytes: number }
  | { readonly kind: "pfifo"; readonly limitPackets: number }
  | { readonly kind: "sfq"; readonly perturbSeconds: number }
  | { readonly kind: "fq_codel"; readonly targetMs: number; readonly intervalMs: number };

/** A u32 filter: its selectors (tc's `match ...` words), the leaf it sends to, in order. */
export interface QosFilter {
  readonly selectors: readonly string[];
  /** The same match in OpenFlow's words, for queues on Open vSwitch ports. */
  readonly flow: string;
  readonly minor: number;
  readonly path: string;
}

/** Where a policy is applied: a guest NIC's host-side device, in the guest's direction. */
export interface QosAttachment {
  readonly host: string;
  readonly guest: string;
  readonly nic: number;
  readonly direction: "ingress" | "egress";
  /** The device shaped: the NIC's host-side device (ingress), or an IFB fed from its ingress (egress). */
  readonly dev: string;
  /** The NIC's host-side device (egress: its ingress is redirected to `dev`). */
  readonly hostDev: string;
  /** The NIC's segment. */
  readonly segment: string;
  /** Set when the policy reached this NIC through its tenant (the tenant's default). */
  readonly tenant?: string;
}

export interface QosPolicy {
  readonly name: string;
  readonly path: string;
  /** The root qdisc's major handle, the lab's (so teardown knows its own). */
  readonly major: number;
  readonly shape:
    | { readonly kind: "htb"; readonly classes: readonly QosClass[]; readonly defaultMinor: number; readonly filters: readonly QosFilter[] }
    | { readonly kind: "tbf"; readonly rate: Rate; readonly burst: number; readonly latencyMs: number }
    | { readonly kind: "queue"; readonly queue: QosQueue }
    | { readonly kind: "meter"; readonly rate: Rate; readonly burstBits: number }
    | { readonly kind: "netem"; readonly delayMs: number; readonly jitterMs: number; readonly lossPercent: number; readonly rate?: Rate };
  readonly attachments: readonly QosAttachment[];
  /** Open vSwitch ports it applies to (HTB: linux-htb queues; meter: an OpenFlow meter). */
  readonly switchPorts: readonly QosSwitchPort[];
  /** Hosts' uplinks it shapes. */
  readonly uplinks: readonly QosUplink[];
}

/** A host's uplink shaped: what it sends out ("egress", on the uplink) or takes in ("ingress", on an IFB fed from it). */
export interface QosUplink {
  readonly host: string;
  readonly direction: "ingress" | "egress";
  /** The device shaped: the uplink (egress), or an IFB of the lab's (ingress). */
  readonly dev: string;
  readonly uplink: string;
}

/**
 * A cluster network's port on a host's integration bridge: "ingress" is what the switch sends into
 * the network there (to its guests on that host), "egress" what it takes from it.
 */
export interface QosSwitchPort {
  readonly host: string;
  readonly cluster: string;
  readonly segment: string;
  readonly port: string;
  readonly direction: "ingress" | "egress";
  /** Meters: the meter's id on the host's integration bridge (1, 2, ... across the host's meters). */
  readonly meterId?: number;
}

/** An overlay cluster: its hosts' Open vSwitch bridges, tunnels and flow tables. */
export interface OverlayCluster {
  readonly name: string;
  readonly path: string;
  /** Sorted. */
  readonly hosts: readonly string[];
  readonly tunnel: "vxlan" | "gre";
  readonly l2Population: boolean;
  /** The integration bridge on each host: one access port per network, tagged with its local VLAN. */
  readonly integrationBridge: string;
  /** The tunnel bridge on each host: the tunnels, and the flow tables between them and the integration bridge. */
  readonly tunnelBridge: string;
  /** Marks every flow the lab installs (OpenFlow cookie, hex), so it touches no other flow. */
  readonly cookie: string;
  /** Marks the flows learn() adds from traffic. */
  readonly learnedCookie: string;
}

/** Where an emulated cluster host's tunnels start: OVS's userspace datapath terminates them on an OVS bridge. */
export interface TunnelEndpoint {
  readonly address: IpAddress;
  /** The bridge's MAC, fixed so that the other hosts' switches know it before the first packet. */
  readonly mac: MacAddress;
  /** The OVS bridge whose internal port holds `address` (the fabric link `dev` is its port). */
  readonly bridge: string;
  /** The host's second link to the fabric, for tunnels only. */
  readonly dev: string;
  /** Its peer on the fabric bridge. */
  readonly fabricPort: string;
}

export interface Host {
  readonly name: string;
  readonly path: string;
  readonly target: TargetSpec;
  readonly underlay: IpAddress;
  /** Emulated hosts: the host's network namespace. */
  readonly netns?: string;
  /** The underlay device (VXLAN endpoint, NAT egress, floating IPs); `eth0` on emulated hosts. */
  readonly uplink: string;
  /** Emulated hosts: the peer of the uplink on the fabric bridge. */
  readonly fabricPort?: string;
  /** Device enslaved to the host's bridged-mode segment (`eth1` on emulated hosts), if any. */
  readonly lanPort?: string;
  /** Emulated hosts: its peer on the fabric bridge. */
  readonly fabricLanPort?: string;
  readonly libvirtUri: string;
  readonly dockerHost: string;
  /** The overlay cluster the host belongs to, if any. */
  readonly cluster?: string;
  /** Emulated cluster hosts: where tunnels start (real hosts start them at `underlay`). */
  readonly tunnelEndpoint?: TunnelEndpoint;
  /** Emulated cluster hosts: the directory of the host's own ovsdb-server and ovs-vswitchd. */
  readonly ovsRunDir?: string;
}

/**
 * A segment's router: a network namespace on the gateway host, as Neutron's qrouter. Its `gw0`
 * sits on the segment's bridge with the gateway address; `ext0` is a point-to-point link to the
 * host, which routes the subnet to it and does the NAT on its uplink. Routing in a namespace of its
 * own keeps the bridge purely L2, so its netfilter hooks and conntrack never see routed traffic.
 */
export interface Router {
  readonly netns: string;
  /** The router's port on the bridge, host side (router side is `gw0`). */
  readonly bridgePort: string;
  /** The host end of the point-to-point link (router end is `ext0`). */
  readonly hostLink: string;
  /** Link-local /30 of that link: the host's and the router's address. */
  readonly hostLinkAddress: IpAddress;
  readonly routerLinkAddress: IpAddress;
}

export interface Gateway {
  /** The host that carries the gateway (router namespace and NAT) for the segment. */
  readonly host: string;
  readonly address: IpAddress;
  readonly address6?: IpAddress;
  readonly router: Router;
}

export interface Segment {
  readonly name: string;
  readonly path: string;
  readonly tenant: string;
  readonly mode: NetworkModeSpec["kind"];
  readonly cidr: Cidr;
  readonly cidr6?: Cidr;
  /** VXLAN id, for segmentation "vxlan" (and not bridged). */
  readonly vni?: number;
  /** 802.1Q tag, for segmentation "vlan". */
  readonly vlan?: number;
  readonly mtu: number;
  /** Bridge device on every host the segment spans. */
  readonly bridge: string;
  /** The device that joins the bridges across hosts: a VXLAN or VLAN device (none when bridged). */
  readonly overlayDev?: string;
  /** nat and routed segments. */
  readonly gateway?: Gateway;
  /** Names of the hosts it spans, sorted. */
  readonly hosts: readonly string[];
  /** Ports of the gateway host the segment's guests may reach (through their router). */
  readonly hostAccess: readonly PortSpec[];
  /** The overlay cluster that carries it (then `overlayDev` is its bridge's port into the integration bridge). */
  readonly cluster?: string;
  /** Cluster segments: the other end of `overlayDev`, an access port of the integration bridge. */
  readonly ovsPort?: string;
  /** Cluster segments: the local VLAN tag of the segment on each of its hosts. */
  readonly localVlans?: Readonly<Record<string, number>>;
}

export interface Nic {
  readonly index: number;
  readonly segment: string;
  readonly address: IpAddress;
  readonly prefixLength: number;
  readonly address6?: IpAddress;
  readonly prefixLength6?: number;
  readonly floatingIp?: IpAddress;
  readonly mac: MacAddress;
  /** Names of the security groups the NIC belongs to; none means no filtering. */
  readonly securityGroups: readonly string[];
  /** Device name inside the guest (`eth0`, ...). */
  readonly guestDev: string;
  /** Host side of the NIC: the TAP or veth on the segment's bridge. */
  readonly hostDev: string;
}

export interface Guest {
  readonly name: string;
  readonly path: string;
  readonly host: string;
  readonly compute: ComputeSpec;
  /**
   * Emulated guests: the network namespace the guest runs in: its own, its host's (container
   * network mode "host") or another guest's (mode "container").
   */
  readonly netns?: string;
  /** Whether the guest owns `netns` (created and removed with it). */
  readonly ownsNetns: boolean;
  readonly nics: readonly Nic[];
  readonly intercept?: InterceptSpec;
}

export interface External {
  readonly name: string;
  readonly path: string;
  readonly netns: string;
  /** Its address on the fabric. */
  readonly address: IpAddress;
  readonly fabricPort: string;
  /** Extra addresses on its loopback, routed to it by the lab's hosts. */
  readonly addresses: readonly Cidr[];
}

export interface PortForward {
  readonly path: string;
  readonly segment: string;
  readonly protocol: Protocol;
  readonly hostPort: number;
  readonly guest: string;
  readonly to: IpAddress;
  readonly port: number;
}

export interface ServiceBackend {
  readonly guest: string;
  readonly address: IpAddress;
  readonly port: number;
  readonly weight: number;
}

export interface Service {
  readonly name: string;
  readonly path: string;
  readonly segment: string;
  readonly protocol: Protocol;
  readonly vip: IpAddress;
  readonly port: number;
  readonly nodePort?: number;
  readonly backends: readonly ServiceBackend[];
}

export type Family = 4 | 6;

/** A resolved security group rule, for one address family. */
export interface SecurityRule {
  readonly direction: "ingress" | "egress";
  readonly family: Family;
  readonly peer:
    | { readonly kind: "cidr"; readonly cidr: Cidr }
    | { readonly kind: "any" }
    /** A group's member set (ipset) of this family. */
    | { readonly kind: "group"; readonly group: string; readonly set: string };
  readonly port: PortSpec;
  readonly description?: string;
}

export interface ResolvedSecurityGroup {
  readonly name: string;
  readonly path: string;
  /** Egress limited to the egress rules (else all egress is allowed). */
  readonly restrictEgress: boolean;
  readonly rules: readonly SecurityRule[];
  /** ipset names of the members' addresses, per family. */
  readonly sets: Readonly<Record<Family, string>>;
  readonly members: Readonly<Record<Family, readonly IpAddress[]>>;
  /** Room in each set: at least twice the members, at least 1,024 (ipset's maxelem). */
  readonly maxelem: number;
}
