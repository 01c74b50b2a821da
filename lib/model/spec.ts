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
  /** libvirt connection URI for VMs on this host. @default derived from the target */
  readonly libvirtUri?: string;
  /** Docker daemon address for containers on this host. @default derived from the target */
  readonly dockerHost?: string;
}

export interface SegmentSpec {
  readonly name: string;
  readonly path: string;
  /** IPv4 or IPv6 subnet of the segment. */
  readonly cidr: string;
  /** VXLAN network identifier. @default allocated from 1000 upwards */
  readonly vni?: number;
  /** Hosts the segment spans besides those of its guests. */
  readonly hosts?: readonly string[];
  /** Underlay MTU; the segment's MTU is this minus the VXLAN overhead. @default 1500 */
  readonly underlayMtu?: number;
}

export interface NicSpec {
  readonly segment: string;
  /** Address in the segment's subnet, without mask. @default the next free address */
  readonly address?: string;
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

export interface ContainerSpec {
  readonly image: string;
}

export type ComputeSpec = { readonly kind: "vm"; readonly vm: VmSpec } | { readonly kind: "container"; readonly container: ContainerSpec };

export interface GuestSpec {
  readonly name: string;
  readonly path: string;
  readonly host: string;
  readonly compute: ComputeSpec;
  readonly nics: readonly NicSpec[];
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
}
