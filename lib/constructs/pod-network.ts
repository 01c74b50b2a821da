import { Construct } from "constructs";
import { PodBackendSpec, PodNetworkSpec, PodSpec } from "../model";
import { PartProps, nameOf } from "./hosts";
import { LabRegistry, labOf, sameLab } from "./lab-registry";

type HostRef = { readonly name: string } | string;

export interface FlannelVxlanOptions {
  /** @default 1 (Flannel's `flannel.1`) */
  readonly vni?: number;
  /** @default 8472 (Flannel's) */
  readonly port?: number;
}

export interface CalicoOptions {
  /** @default "none": the underlay routes pod addresses as they are (BGP by BIRD) */
  readonly encapsulation?: "none" | "ipip" | "vxlan";
  /** Encapsulate only to nodes outside the sender's `underlayCidr`. @default false */
  readonly crossSubnet?: boolean;
  /** @default 64512 */
  readonly asNumber?: number;
  /** Nodes that reflect routes to the others (each client then has sessions with these only). @default none: a full mesh */
  readonly routeReflectors?: readonly HostRef[];
}

/** How a pod network joins its nodes. */
export class PodBackend {
  /** Flannel's VXLAN backend: a VTEP per node, its neighbour, forwarding and route entries written from the topology. */
  static flannelVxlan(options: FlannelVxlanOptions = {}): PodBackend {
    return new PodBackend({ kind: "flannel-vxlan", vni: options.vni, port: options.port });
  }

  /** Flannel's host-gw backend: a route per remote node's subnet via that node (the nodes share one L2 segment). */
  static flannelHostGw(): PodBackend {
    return new PodBackend({ kind: "flannel-host-gw" });
  }

  /** Calico: a route per pod, no bridge; blocks exchanged by BGP (BIRD per node), or through IPIP or VXLAN. */
  static calico(options: CalicoOptions = {}): PodBackend {
    return new PodBackend({
      kind: "calico", encapsulation: options.encapsulation, crossSubnet: options.crossSubnet, asNumber: options.asNumber,
      routeReflectors: options.routeReflectors?.map(nameOf),
    });
  }

  private constructor(readonly spec: PodBackendSpec) {}
}

export interface PodNetworkProps extends PartProps {
  /** The cluster CIDR (IPv4), e.g. "10.244.0.0/16". */
  readonly cidr: string;
  /** The hosts that are nodes, in order: node i gets the i-th subnet of the cidr. */
  readonly nodes: readonly HostRef[];
  /** @default PodBackend.flannelVxlan() */
  readonly backend?: PodBackend;
  /** Mask length of each node's subnet. @default 24 for Flannel, 26 for Calico */
  readonly nodeSubnetPrefix?: number;
  /** @default 1500 */
  readonly underlayMtu?: number;
  /** The nodes' shared underlay subnet (host-gw, Calico). @default the emulated fabric */
  readonly underlayCidr?: string;
}

export interface PodProps {
  /** The node (a host of the network) the pod runs on. */
  readonly node: HostRef;
  /** Kubernetes-style labels, for network policies. @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PodConstructProps extends PodProps {
  readonly network: PodNetwork;
  /** The pod's name in the lab (pods, hosts, guests and externals share one namespace). @default the construct id */
  readonly name?: string;
}

/**
 * A pod network across hosts, as container platforms build them: one cluster CIDR, a subnet of it
 * per node, pods as namespaces on the nodes, and a backend (Flannel VXLAN or host-gw, Calico).
 */
export class PodNetwork extends Construct {
  /** @internal */
  readonly _lab: LabRegistry;
  private readonly props: PodNetworkProps;
  private readonly pods: Pod[] = [];
  readonly name: string;

  constructor(scope: Construct, id: string, props: PodNetworkProps) {
    const lab = labOf(scope, id, props.lab, "pod network");
    const name = props.name ?? id;
    const path = `${scope.node.path}/${id}`;
    for (const h of props.nodes) sameLab(lab, h, path, "node");
    super(lab._claim("pod network", name, scope, id), id);
    this._lab = lab;
    this.name = name;
    this.props = props;
    lab._add("pod network", name, this);
  }

  /** A pod of this network on `props.node`, as a child of the network. */
  addPod(name: string, props: PodProps): Pod {
    return new Pod(this, name, { ...props, network: this });
  }

  /** @internal */
  _addPod(pod: Pod): void {
    this._lab._invalidate(this.node.path);
    this.pods.push(pod);
  }

  /** @internal */
  _spec(): PodNetworkSpec {
    const p = this.props;
    return {
      name: this.name, path: this.node.path, cidr: p.cidr, nodes: p.nodes.map(nameOf), nodeSubnetPrefix: p.nodeSubnetPrefix,
      backend: (p.backend ?? PodBackend.flannelVxlan()).spec, underlayMtu: p.underlayMtu, underlayCidr: p.underlayCidr,
      pods: this.pods.map((x) => x._spec()),
    };
  }
}

/** A pod: a network namespace on a node with one veth, as a CNI plugin plumbs a pod's sandbox. */
export class Pod extends Construct {
  readonly name: string;
  readonly network: PodNetwork;
  private readonly props: PodConstructProps;

  constructor(scope: Construct, id: string, props: PodConstructProps) {
    const lab = props.network._lab;
    const name = props.name ?? id;
    sameLab(lab, props.node, `${scope.node.path}/${id}`, "node");
    super(lab._claim("pod", name, scope, id), id);
    this.name = name;
    this.network = props.network;
    this.props = props;
    props.network._addPod(this);
    lab._add("pod", name, this);
  }

  /** @internal */
  _spec(): PodSpec {
    return { name: this.name, path: this.node.path, node: nameOf(this.props.node), labels: this.props.labels };
  }
}
