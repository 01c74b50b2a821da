import { Annotations, Aspects, IAspect } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { Issue, LabSpec, Resolution, labPrefix, resolveLab } from "../model";
import { renderLab, stageFingerprints } from "../render";
import { Backend } from "./backend";
import { Guest, GuestProps } from "./guest";
import { External, ExternalProps, Host, HostProps } from "./hosts";
import { LAB_SYMBOL, LabRegistry, PartKind, checkName, freeIn, nameSpaceOf } from "./lab-registry";
import { Network, PortForward, Segment, SegmentProps, Service, Tenant } from "./networks";
import { OverlayCluster, OverlayClusterProps } from "./overlay-cluster";
import { PodNetwork, PodNetworkProps } from "./pod-network";
import { QosPolicy, QosPolicyProps } from "./qos-policy";
import { RealGuests } from "./real-guests";
import { SecurityGroup, SecurityGroupProps } from "./security-group";
import { StageHook, requireTerraformDataSupport } from "./stage-hook";

export interface LabProps {
  /** Lab name: names its namespaces and inventory. @default the construct id */
  readonly name?: string;
  /** Prefix of every kernel object the lab owns (1-6 of a-z0-9). @default the name, up to 6 characters */
  readonly prefix?: string;
  /** @default Backend.emulated() */
  readonly backend?: Backend;
}

/**
 * The root of a lab. Hosts, tenants and their networks, guests, externals and security groups are
 * its parts: made with their own constructors anywhere in the construct tree (`new Guest(this, "web1",
 * { lab, host, nics })`), or with the lab's `addX()` shortcuts. At synth the lab is validated as a
 * whole, and only a valid lab renders any host script.
 */
export class Lab extends Construct implements LabRegistry {
  /** True for any Lab, also one from another copy of this package. */
  static isLab(x: unknown): x is Lab {
    return typeof x === "object" && x !== null && LAB_SYMBOL in x;
  }

  readonly backend: Backend;
  private readonly props: LabProps;
  private readonly parts = new Map<PartKind, Construct[]>();
  /** Lab-wide names per namespace: name → [kind, part]. */
  private readonly names = new Map<string, Map<string, [PartKind, Construct]>>();
  private readonly byPath = new Map<string, Construct>();
  private readonly shortcutScopes = new Map<string, Construct>();
  private resolved?: Resolution;
  private built = false;

  constructor(scope: Construct, id: string, props: LabProps = {}) {
    super(scope, id);
    Object.defineProperty(this, LAB_SYMBOL, { value: true });
    this.props = props;
    this.backend = props.backend ?? Backend.emulated();
    Aspects.of(this).add(new BuildLab(this));
    this.node.addValidation({ validate: () => [...this.issuesAt(this.node.path), ...this.clashesWithOtherLabs()] });
  }

  /** A host, as a child of the lab (same as `new Host(lab, name, props)`). */
  addHost(name: string, props: HostProps = {}): Host {
    return new Host(this, name, { ...props, lab: this });
  }

  /** A tenant, whose networks are isolated from every other tenant's; a child of the lab's "Tenants". */
  addTenant(name: string): Tenant {
    return new Tenant(this._shortcutScope("tenant"), name, { lab: this });
  }

  /** A network outside any tenant (tenant "default"); a child of the lab's "Segments". */
  addSegment(name: string, props: SegmentProps): Segment {
    return new Segment(this._shortcutScope("segment"), name, { ...props, lab: this });
  }

  /** A guest, as a child of the lab (same as `new Guest(lab, name, props)`). */
  addGuest(name: string, props: GuestProps): Guest {
    return new Guest(this, name, { ...props, lab: this });
  }

  /** Emulated labs: a node of the outside world on the underlay (a client, an admin host, "the internet"). */
  addExternal(name: string, props: ExternalProps = {}): External {
    return new External(this, name, { ...props, lab: this });
  }

  /** A security group of this lab, a child of its "SecurityGroups"; guests join it with `securityGroups: [group]`. */
  addSecurityGroup(name: string, props: SecurityGroupProps = {}): SecurityGroup {
    return new SecurityGroup(this._shortcutScope("security group"), name, { ...props, lab: this });
  }

  /** An overlay cluster (Open vSwitch) over `props.hosts`, a child of the lab's "Clusters"; networks join it with `cluster`. */
  addOverlayCluster(name: string, props: OverlayClusterProps): OverlayCluster {
    return new OverlayCluster(this._shortcutScope("cluster"), name, { ...props, lab: this });
  }

  /** A QoS policy (tc), a child of the lab's "QosPolicies"; `policy.applyTo(guest, { direction })` puts it on a guest NIC. */
  addQosPolicy(name: string, props: QosPolicyProps): QosPolicy {
    return new QosPolicy(this._shortcutScope("qos policy"), name, { ...props, lab: this });
  }

  /** A pod network (Flannel or Calico) across `props.nodes`, a child of the lab's "PodNetworks"; `network.addPod(name, { node })` adds pods. */
  addPodNetwork(name: string, props: PodNetworkProps): PodNetwork {
    return new PodNetwork(this._shortcutScope("pod network"), name, { ...props, lab: this });
  }

  /** The lab as a plain spec, with construct paths for error messages. */
  toSpec(): LabSpec {
    const all = <T extends Construct>(kind: PartKind) => (this.parts.get(kind) ?? []) as T[];
    const withPath = <T extends { path: string }>(c: Construct & { spec: T }): T => ({ ...c.spec, path: c.node.path });
    const segment = (n: Network) => ({ ...withPath(n), tenantPath: n._tenant?.node.path });
    return {
      name: this.props.name ?? this.node.id, path: this.node.path, prefix: this.props.prefix, backend: this.backend.spec,
      hosts: all<Host>("host").map(withPath), segments: all<Network>("segment").map(segment), guests: all<Guest>("guest").map(withPath),
      externals: all<External>("external").map(withPath), services: all<Service>("service").map(withPath),
      portForwards: all<PortForward>("port forward").map(withPath),
      securityGroups: all<SecurityGroup>("security group").map((g) => g._spec()),
      clusters: all<OverlayCluster>("cluster").map(withPath),
      qosPolicies: all<QosPolicy>("qos policy").map((q) => q._spec()),
      podNetworks: all<PodNetwork>("pod network").map((n) => n._spec()),
    };
  }

  /** Validates and resolves the lab; the result is kept until the lab changes. */
  resolve(): Resolution {
    this.resolved ??= resolveLab(this.toSpec());
    return this.resolved;
  }

  /** @internal Emits the Terraform resources; called by the lab's aspect before validation. */
  _build(): void {
    this.built = true;
    const { lab, warnings, issues } = this.resolve();
    for (const w of warnings) Annotations.of(this.byPath.get(w.path) ?? this).addWarning(w.message);
    const clashes = this.clashesWithOtherLabs().map((message) => ({ path: this.node.path, message }));
    // Fail closed: an invalid lab stops synth here, before cdktf's validation (which skipValidation turns off).
    if (!lab || clashes.length > 0) {
      // Every invalid lab of the app at once, as cdktf's validation would list them.
      const others = this.node.root.node.findAll().filter((c): c is Lab => Lab.isLab(c) && c !== this).flatMap((l) => l.resolve().issues ?? []);
      throw new Error(invalidLabMessage([...(issues ?? []), ...clashes, ...others]));
    }
    requireTerraformDataSupport(this);
    const hooks = new Map<string, StageHook>();
    const scope = new Construct(this, "Stages");
    const stages = renderLab(lab);
    const fingerprints = stageFingerprints(stages);
    for (const stage of stages) {
      // Names never hold '_', so this is one-to-one ("owner/h1" vs "owner_h1" cannot both occur).
      hooks.set(stage.id, new StageHook(scope, stage.id.replace(/\//g, "_"), lab, stage, fingerprints.get(stage.id)!, hooks));
    }
    if (lab.backend.kind === "hosts") new RealGuests(this, "Compute", lab, hooks);
  }

  /** @internal */
  _claim(kind: PartKind, name: string, scope: Construct, id: string): Construct {
    const path = `${scope.node.path}/${id}`;
    if (this.built) {
      throw new Error(`[${path}] cannot add ${kind} '${name}' to lab ${this.node.path}: the lab was already synthesized; add everything before synth.`);
    }
    checkName(path, name, kind);
    const ns = nameSpaceOf(kind);
    const taken = this.names.get(ns)?.get(name);
    if (taken) {
      const [otherKind, other] = taken;
      const shared = ns === "node" ? " (hosts, guests, externals and pods share one namespace: each is a node)" : "";
      throw new Error(`[${path}] ${kind} name '${name}' is already used by ${otherKind} ${other.node.path} in lab ${this.node.path}${shared}; choose another name, or set { name } to name it apart from its construct id.`);
    }
    return freeIn(scope, id, kind === "segment" ? "network" : kind);
  }

  /** @internal */
  _add(kind: PartKind, name: string | undefined, part: Construct): void {
    this.resolved = undefined;
    if (name !== undefined) {
      const ns = nameSpaceOf(kind);
      if (!this.names.has(ns)) this.names.set(ns, new Map());
      this.names.get(ns)!.set(name, [kind, part]);
    }
    if (!this.parts.has(kind)) this.parts.set(kind, []);
    this.parts.get(kind)!.push(part);
    this.byPath.set(part.node.path, part);
    // Each part reports its own issues, so cdktf prints each at the part's construct path.
    part.node.addValidation({ validate: () => this.issuesAt(part.node.path) });
  }

  /** @internal */
  _invalidate(path = this.node.path): void {
    if (this.built) throw new Error(`[${path}] cannot change this part: lab ${this.node.path} was already synthesized; make every change before synth.`);
    this.resolved = undefined;
  }

  /** @internal Hosts, guests and externals sit right under the lab (their names are unique among them). */
  _shortcutScope(kind: PartKind): Construct {
    const id = SHORTCUT_SCOPES[kind];
    if (!id) return this;
    let scope = this.shortcutScopes.get(id);
    if (!scope) this.shortcutScopes.set(id, (scope = new Construct(this, id)));
    return scope;
  }

  /** Two labs with the same prefix would own (and destroy) each other's namespaces and devices. */
  private clashesWithOtherLabs(): string[] {
    const spec = this.toSpec();
    const mine = labPrefix(spec);
    const labs = this.node.root.node.findAll().filter((c): c is Lab => Lab.isLab(c));
    const earlier = labs.slice(0, labs.indexOf(this));
    const samePrefix = earlier.find((l) => labPrefix(l.toSpec()) === mine);
    const sameName = earlier.find((l) => l.toSpec().name === spec.name);
    return [
      ...(samePrefix ? [`prefix '${mine}' is already used by lab ${samePrefix.node.path}; two labs must not own the same kernel objects. Give this lab its own prefix, e.g. new Lab(scope, '${this.node.id}', { prefix: '${mine.slice(0, 5)}2' }).`] : []),
      // The name keys the lab's inventory file and its derived MACs.
      ...(sameName ? [`lab name '${spec.name}' is already used by lab ${sameName.node.path}; give this lab its own name, e.g. { name: '${spec.name}-2' }.`] : []),
    ];
  }

  private issuesAt(path: string): string[] {
    return (this.resolve().issues ?? []).filter((i) => i.path === path).map((i) => i.message);
  }
}

/** Where the shortcuts put parts whose names may repeat a node's (ids start upper case: never a name). */
const SHORTCUT_SCOPES: Partial<Record<PartKind, string>> = {
  tenant: "Tenants", segment: "Segments", "security group": "SecurityGroups", cluster: "Clusters", "qos policy": "QosPolicies", "pod network": "PodNetworks",
};

/** Every issue once, at its construct path, in cdktf's own format. */
function invalidLabMessage(issues: readonly Issue[]): string {
  const unique = [...new Map(issues.map((i) => [`[${i.path}] ${i.message}`, i])).keys()];
  return [
    "Validation failed with the following errors:",
    ...unique.map((line) => `  ${line}`),
    "",
    "The lab renders no host script until these are fixed.",
  ].join("\n");
}

class BuildLab implements IAspect {
  private built = false;
  constructor(private readonly lab: Lab) {}
  visit(node: IConstruct): void {
    if (node !== this.lab || this.built) return;
    this.built = true;
    this.lab._build();
  }
}
