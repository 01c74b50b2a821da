import { ContainerNetworkMode, NetworkModeSpec, SegmentationKind } from "../model";

export interface GatewayOptions {
  /** Gateway address inside the subnet. @default the subnet's first address (.1) */
  readonly gateway?: string;
  /** Host that carries the gateway (and NAT). @default the first of the network's hosts, by name */
  readonly gatewayHost?: string;
}

/** How a tenant network reaches beyond its own L2 segment: the modes of desktop virtualization and clouds. */
export class NetworkMode {
  /** Host-only: guests reach each other, nothing else. */
  static isolated(): NetworkMode {
    return new NetworkMode({ kind: "isolated" });
  }

  /** The hosts' LAN ports join the bridge: guests sit on the physical segment, no overlay. */
  static bridged(): NetworkMode {
    return new NetworkMode({ kind: "bridged" });
  }

  /** A gateway on one host: ip_forward, MASQUERADE out of its uplink, floating IPs, port forwards. */
  static nat(options: GatewayOptions = {}): NetworkMode {
    return new NetworkMode({ kind: "nat", ...options });
  }

  /** A gateway without NAT: the lab's hosts and externals get routes to the subnet. */
  static routed(options: GatewayOptions = {}): NetworkMode {
    return new NetworkMode({ kind: "routed", ...options });
  }

  private constructor(readonly spec: NetworkModeSpec) {}
}

/** How a network's bridges on different hosts are joined. */
export class Segmentation {
  /** VXLAN over the underlay; `vni` 1-16,777,215, allocated from 1000 when left out. */
  static vxlan(options: { vni?: number } = {}): Segmentation {
    return new Segmentation("vxlan", options.vni, undefined);
  }

  /** An 802.1Q tag on the hosts' uplinks; `id` 1-4,094, allocated from 100 when left out. */
  static vlan(options: { id?: number } = {}): Segmentation {
    return new Segmentation("vlan", undefined, options.id);
  }

  private constructor(readonly kind: SegmentationKind, readonly vni?: number, readonly vlan?: number) {}
}

/** Docker's network modes for a container guest. */
export class ContainerNetwork {
  /** NICs on lab networks (the guest's `nics`). */
  static bridge(): ContainerNetwork {
    return new ContainerNetwork({ kind: "bridge" });
  }

  /** The host's own network stack. */
  static host(): ContainerNetwork {
    return new ContainerNetwork({ kind: "host" });
  }

  /** Only a loopback interface. */
  static none(): ContainerNetwork {
    return new ContainerNetwork({ kind: "none" });
  }

  /** The network namespace of another guest on the same host (`container:<name>`). */
  static container(guest: string | { readonly node: { readonly id: string } }): ContainerNetwork {
    return new ContainerNetwork({ kind: "container", guest: typeof guest === "string" ? guest : guest.node.id });
  }

  private constructor(readonly spec: ContainerNetworkMode) {}
}
