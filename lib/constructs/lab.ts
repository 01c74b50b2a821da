import { Annotations, Aspects, IAspect } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { Issue, LabSpec, Resolution, labPrefix, resolveLab } from "../model";
import { renderLab, stageFingerprints } from "../render";
import { Backend } from "./backend";
import {
  ExternalProps, GuestProps, HostProps, LabExternal, LabGuest, LabHost, LabPortForward, LabRegistry, LabSegment, LabService,
  SegmentProps, Tenant, guestSpec, segmentSpec,
} from "./nodes";
import { RealGuests } from "./real-guests";
import { SecurityGroup, SecurityGroupProps, SecurityGroupRegistry } from "./security-group";
import { StageHook, requireTerraformDataSupport } from "./stage-hook";

const LAB_SYMBOL = Symbol.for("cdktf-cloudnet.Lab");

export interface LabProps {
  /** Lab name: names its namespaces and inventory. @default the construct id */
  readonly name?: string;
  /** Prefix of every kernel object the lab owns (1-6 of a-z0-9). @default the name, up to 6 characters */
  readonly prefix?: string;
  /** @default Backend.emulated() */
  readonly backend?: Backend;
}

/**
 * The root of a lab. Add hosts, tenants and their networks, guests and externals; at synth the lab
 * is validated as a whole, and only a valid lab renders any host script.
 */
export class Lab extends Construct implements LabRegistry, SecurityGroupRegistry {
  /** True for any Lab, also one from another copy of this package. */
  static isLab(x: unknown): x is Lab {
    return typeof x === "object" && x !== null && LAB_SYMBOL in x;
  }

  readonly backend: Backend;
  private readonly props: LabProps;
  private readonly hosts: LabHost[] = [];
  private readonly segments: LabSegment[] = [];
  private readonly guests: LabGuest[] = [];
  private readonly externals: LabExternal[] = [];
  private readonly services: LabService[] = [];
  private readonly portForwards: LabPortForward[] = [];
  private readonly securityGroups: SecurityGroup[] = [];
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

  addHost(name: string, props: HostProps = {}): LabHost {
    this._claim(this, name, "host");
    const host = new LabHost(this, name, {
      name, path: "", target: props.target?.spec, underlayAddress: props.underlayAddress, uplink: props.uplink,
      lanInterface: props.lanInterface, libvirtUri: props.libvirtUri, dockerHost: props.dockerHost,
    });
    this.hosts.push(this.adopt(host));
    return host;
  }

  /** A tenant, whose networks are isolated from every other tenant's. */
  addTenant(name: string): Tenant {
    this._claim(this, name, "tenant");
    return this.adopt(new Tenant(this, name, this));
  }

  /** A network outside any tenant (tenant "default"). */
  addSegment(name: string, props: SegmentProps): LabSegment {
    this._claim(this, name, "segment");
    const seg = new LabSegment(this, name, segmentSpec(name, props));
    this._registerSegment(seg);
    return seg;
  }

  addGuest(name: string, props: GuestProps): LabGuest {
    this._claim(this, name, "guest");
    const guest = new LabGuest(this, name, guestSpec(name, props));
    this.guests.push(this.adopt(guest));
    return guest;
  }

  /** Emulated labs: a node of the outside world on the underlay (a client, an admin host, "the internet"). */
  addExternal(name: string, props: ExternalProps = {}): LabExternal {
    this._claim(this, name, "external");
    const ext = new LabExternal(this, name, { name, path: "", addresses: props.addresses });
    this.externals.push(this.adopt(ext));
    return ext;
  }

  /** A security group of this lab; guests join it with `securityGroups: [group]`. */
  addSecurityGroup(name: string, props: SecurityGroupProps = {}): SecurityGroup {
    this._claim(this, name, "security group");
    return new SecurityGroup(this, name, props);
  }

  /** The lab as a plain spec, with construct paths for error messages. */
  toSpec(): LabSpec {
    const withPath = <T extends { path: string }>(c: Construct & { spec: T }): T => ({ ...c.spec, path: c.node.path });
    return {
      name: this.props.name ?? this.node.id, path: this.node.path, prefix: this.props.prefix, backend: this.backend.spec,
      hosts: this.hosts.map(withPath), segments: this.segments.map(withPath), guests: this.guests.map(withPath),
      externals: this.externals.map(withPath), services: this.services.map(withPath), portForwards: this.portForwards.map(withPath),
      securityGroups: this.securityGroups.map((g) => g._spec()),
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
    for (const w of warnings) Annotations.of(this.node.findAll().find((c) => c.node.path === w.path) ?? this).addWarning(w.message);
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

  /**
   * @internal Before anything is added: the lab must not be rendered yet, and the name must be free
   * in `scope` (names are construct ids, so a second use would clash in the construct tree).
   */
  _claim(scope: Construct, name: string, what: string): void {
    if (this.built) {
      throw new Error(`[${this.node.path}] cannot add ${what} '${name}': the lab was already synthesized; add everything before synth.`);
    }
    if (typeof name !== "string" || name === "") {
      throw new Error(`[${scope.node.path}] ${what} name '' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter, e.g. '${what.replace(/ /g, "-")}1'.`);
    }
    this.resolved = undefined;
    const existing = scope.node.tryFindChild(name);
    if (existing) {
      throw new Error(`[${scope.node.path}] ${what} name '${name}' is already used by ${existing.node.path}; choose another name.`);
    }
  }

  /** @internal */
  _invalidate(): void {
    if (this.built) throw new Error(`[${this.node.path}] the lab was already synthesized; change it before synth.`);
    this.resolved = undefined;
  }

  /** @internal */
  _registerSecurityGroup(group: SecurityGroup): void {
    this.resolved = undefined;
    this.securityGroups.push(this.adopt(group));
  }

  /** @internal */
  _registerSegment(segment: LabSegment): void {
    this.segments.push(this.adopt(segment));
  }

  /** @internal */
  _registerService(service: LabService): void {
    this.services.push(this.adopt(service));
  }

  /** @internal */
  _registerPortForward(forward: LabPortForward): void {
    this.portForwards.push(this.adopt(forward));
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

  /** Children report their own issues, so cdktf prints each at its construct path. */
  private adopt<T extends Construct>(child: T): T {
    child.node.addValidation({ validate: () => this.issuesAt(child.node.path) });
    return child;
  }
}

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
