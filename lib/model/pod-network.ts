import { Cidr, IpAddress, MacAddress } from "../net";

/** Flannel's VXLAN port (the kernel's old default, not IANA's 4789). */
export const FLANNEL_VXLAN_PORT = 8472;
/** Calico's default AS number (a private one). */
export const CALICO_AS_NUMBER = 64512;
/** The gateway every Calico pod routes to: the host end of its veth answers ARP for it (proxy ARP). */
export const CALICO_POD_GATEWAY = "169.254.1.1";
/** Calico's MAC on every pod veth's host end: pods never need to tell them apart. */
export const CALICO_HOST_MAC = "ee:ee:ee:ee:ee:ee";
/** IPIP adds an outer IPv4 header. */
export const IPIP_OVERHEAD = 20;
/** The port BGP speaks on. */
export const BGP_PORT = 179;
/** Calico's VXLAN VNI and port. */
export const CALICO_VXLAN_VNI = 4096;
export const CALICO_VXLAN_PORT = 4789;

/** A pod network's backend with every default set. */
export type PodBackend =
  | { readonly kind: "flannel-vxlan"; readonly vni: number; readonly port: number }
  | { readonly kind: "flannel-host-gw" }
  | {
      readonly kind: "calico";
      readonly encapsulation: "none" | "ipip" | "vxlan";
      readonly crossSubnet: boolean;
      readonly asNumber: number;
      /** Sorted; empty: a full mesh. */
      readonly routeReflectors: readonly string[];
    };

/** A node of a pod network: a lab host and the pod subnet it hands out. */
export interface PodNode {
  readonly host: string;
  /** The node's subnet of the cluster CIDR (Flannel's lease, Calico's block). */
  readonly subnet: Cidr;
  /** Flannel: the bridge its pods sit on (the `cni0` of the bridge plugin), holding `gateway`. */
  readonly bridge?: string;
  /** Flannel: the bridge's address, the pods' default gateway (the subnet's first address). */
  readonly gateway?: IpAddress;
  /** Flannel VXLAN: the node's VTEP (`flannel.<VNI>`), its MAC and address (the subnet's network address, as a /32). */
  readonly vtep?: { readonly dev: string; readonly mac: MacAddress; readonly address: IpAddress };
  /** Calico: encapsulation device (`tunl0`-like for IPIP, `vxlan.calico`-like for VXLAN), if any. */
  readonly tunnel?: { readonly dev: string; readonly mac?: MacAddress; readonly address: IpAddress };
}

/** A pod: its namespace, its one NIC (a veth), its address. */
export interface Pod {
  readonly name: string;
  readonly path: string;
  readonly network: string;
  readonly node: string;
  readonly netns: string;
  readonly address: IpAddress;
  /** Flannel: the node subnet's mask; Calico: 32 (every pod its own route). */
  readonly prefixLength: number;
  readonly gateway: IpAddress;
  readonly mac: MacAddress;
  /** The veth's end on the node (on the bridge for Flannel, routed for Calico). */
  readonly hostDev: string;
  readonly guestDev: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodNetwork {
  readonly name: string;
  readonly path: string;
  readonly cidr: Cidr;
  readonly nodeSubnetPrefix: number;
  readonly backend: PodBackend;
  /** The pods' MTU: the underlay's less what the backend adds. */
  readonly mtu: number;
  readonly underlayCidr?: Cidr;
  /** In the order given. */
  readonly nodes: readonly PodNode[];
  readonly pods: readonly Pod[];
}
