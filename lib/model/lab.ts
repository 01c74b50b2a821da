import { Cidr, IpAddress, MacAddress } from "../net";
import { BackendSpec, ComputeSpec, TargetSpec } from "./spec";

/** VXLAN adds 50 bytes over IPv4 (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
export const VXLAN_OVERHEAD_IPV4 = 50;
/** ... and 70 over IPv6 (outer IP 40). */
export const VXLAN_OVERHEAD_IPV6 = 70;
export const VNI_MIN = 1;
export const VNI_MAX = 16_777_215;
/** Smallest MTU the kernel accepts for IPv4 on a device. */
export const MIN_IPV4_MTU = 576;
/** IPv6 needs at least 1280 (RFC 8200). */
export const MIN_IPV6_MTU = 1280;

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
}

export interface Host {
  readonly name: string;
  readonly path: string;
  readonly target: TargetSpec;
  readonly underlay: IpAddress;
  /** Emulated hosts: the host's network namespace. */
  readonly netns?: string;
  /** Emulated hosts: the underlay device inside the host and its peer on the fabric bridge. */
  readonly uplink: string;
  readonly fabricPort?: string;
  readonly libvirtUri: string;
  readonly dockerHost: string;
}

export interface Segment {
  readonly name: string;
  readonly path: string;
  readonly cidr: Cidr;
  readonly vni: number;
  readonly mtu: number;
  /** Bridge device on every host the segment spans. */
  readonly bridge: string;
  readonly vxlan: string;
  /** Names of the hosts it spans, sorted. */
  readonly hosts: readonly string[];
}

export interface Nic {
  readonly index: number;
  readonly segment: string;
  readonly address: IpAddress;
  readonly prefixLength: number;
  readonly mac: MacAddress;
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
  /** Emulated guests: the guest's network namespace. */
  readonly netns?: string;
  readonly nics: readonly Nic[];
}
