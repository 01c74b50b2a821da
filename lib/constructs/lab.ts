import { Aspects, IAspect } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { GuestSpec, HostSpec, LabSpec, NicSpec, ResolvedLab, SegmentSpec, resolveLab, Issue, labPrefix } from "../model";
import { renderLab } from "../render";
import { Backend, Target } from "./backend";
import { Compute } from "./compute";
import { RealGuests } from "./real-guests";
import { StageHook } from "./stage-hook";

const LAB_SYMBOL = Symbol.for("cdktf-cloudnet.Lab");

export interface LabProps {
  /** Lab name: names its namespaces and inventory. @default the construct id */
  readonly name?: string;
  /** Prefix of every kernel object the lab owns (1-6 of a-z0-9). @default the name, up to 6 characters */
  readonly prefix?: string;
  /** @default Backend.emulated() */
  readonly backend?: Backend;
}

export interface HostProps {
  /** How artifacts reach the host; required for Backend.hosts(), not allowed for emulated labs. */
  readonly target?: Target;
  /** The host's VXLAN endpoint address; required for Backend.hosts(). */
  readonly underlayAddress?: string;
  /** libvirt URI. @default qemu+ssh://user@host/system for SSH targets, qemu:///system locally */
  readonly libvirtUri?: string;
  /** Docker daemon. @default ssh://user@host for SSH targets, the local socket otherwise */
  readonly dockerHost?: string;
}

export interface SegmentProps {
  /** The segment's subnet, e.g. '10.10.0.0/24'. */
  readonly cidr: string;
  /** VXLAN network identifier (1-16,777,215). @default allocated from 1000 upwards */
  readonly vni?: number;
  /** Hosts to span besides those of its guests. */
  readonly hosts?: ReadonlyArray<LabHost | string>;
  /** MTU of the underlay; the segment gets this minus the VXLAN overhead. @default 1500 */
  readonly underlayMtu?: number;
}

export interface NicProps {
  readonly segment: LabSegment | string;
  /** Address without mask, inside the segment's subnet. @default the next free one from .10 */
  readonly address?: string;
  /** @default a stable MAC derived from lab, guest and NIC index */
  readonly mac?: string;
}

export interface GuestProps {
  readonly host: LabHost | string;
  /** @default Compute.container() */
  readonly compute?: Compute;
  readonly nics?: readonly NicProps[];
}

/** A host of the lab (an emulated namespace or a real machine). */
export class LabHost extends Construct {
  constructor(scope: Construct, id: string, readonly spec: HostSpec) {
    super(scope, id);
  }
}

/** An L2 segment: a bridge on each host it spans, joined by VXLAN. */
export class LabSegment extends Construct {
  constructor(scope: Construct, id: string, readonly spec: SegmentSpec) {
    super(scope, id);
  }
}

/** A VM or container with NICs on segments. */
export class LabGuest extends Construct {
  constructor(scope: Construct, id: string, readonly spec: GuestSpec) {
    super(scope, id);
  }
}

/**
 * The root of a lab. Collect hosts, segments and guests with `addHost`, `addSegment` and `addGuest`;
 * at synth the lab is validated as a whole, and only a valid lab renders any host script.
 */
export class Lab extends Construct {
  /** True for any Lab, also one from another copy of this package. */
  static isLab(x: unknown): x is Lab {
    return typeof x === "object" && x !== null && LAB_SYMBOL in x;
  }

  readonly backend: Backend;
  private readonly props: LabProps;
  private readonly hosts: LabHost[] = [];
  private readonly segments: LabSegment[] = [];
  private readonly guests: LabGuest[] = [];
  private resolved?: { lab?: ResolvedLab; issues: readonly Issue[] };
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
    this.claim(name, "host");
    const host = new LabHost(this, name, {
      name, path: "", target: props.target?.spec, underlayAddress: props.underlayAddress,
      libvirtUri: props.libvirtUri, dockerHost: props.dockerHost,
    });
    this.adopt(host);
    this.hosts.push(host);
    return host;
  }

  addSegment(name: string, props: SegmentProps): LabSegment {
    this.claim(name, "segment");
    const seg = new LabSegment(this, name, {
      name, path: "", cidr: props.cidr, vni: props.vni, underlayMtu: props.underlayMtu,
      hosts: props.hosts?.map(nameOf),
    });
    this.adopt(seg);
    this.segments.push(seg);
    return seg;
  }

  addGuest(name: string, props: GuestProps): LabGuest {
    this.claim(name, "guest");
    const nics: NicSpec[] = (props.nics ?? []).map((n) => ({ segment: nameOf(n.segment), address: n.address, mac: n.mac }));
    const guest = new LabGuest(this, name, {
      name, path: "", host: nameOf(props.host), compute: (props.compute ?? Compute.container()).spec, nics,
    });
    this.adopt(guest);
    this.guests.push(guest);
    return guest;
  }

  /** The lab as a plain spec, with construct paths for error messages. */
  toSpec(): LabSpec {
    const withPath = <T extends { path: string }>(c: Construct & { spec: T }): T => ({ ...c.spec, path: c.node.path });
    return {
      name: this.props.name ?? this.node.id, path: this.node.path, prefix: this.props.prefix, backend: this.backend.spec,
      hosts: this.hosts.map(withPath), segments: this.segments.map(withPath), guests: this.guests.map(withPath),
    };
  }

  /** Validates and resolves the lab; the result is kept until the lab changes. */
  resolve(): { lab?: ResolvedLab; issues: readonly Issue[] } {
    this.resolved ??= resolveLab(this.toSpec());
    return this.resolved;
  }

  /** @internal Emits the Terraform resources; called by the lab's aspect before validation. */
  _build(): void {
    this.built = true;
    const { lab } = this.resolve();
    if (!lab) return; // validation reports the issues; nothing is rendered
    const hooks = new Map<string, StageHook>();
    const scope = new Construct(this, "Stages");
    for (const stage of renderLab(lab)) {
      const deps = stage.after.map((id) => hooks.get(id)!);
      hooks.set(stage.id, new StageHook(scope, stage.id.replace(/\//g, "-"), lab, stage, deps));
    }
    if (lab.backend.kind === "hosts") new RealGuests(this, "Compute", lab, hooks);
  }

  /** Two labs with the same prefix would own (and destroy) each other's namespaces and devices. */
  private clashesWithOtherLabs(): string[] {
    const mine = labPrefix(this.toSpec());
    const labs = this.node.root.node.findAll().filter((c): c is Lab => Lab.isLab(c));
    const earlier = labs.slice(0, labs.indexOf(this)).find((l) => labPrefix(l.toSpec()) === mine);
    if (!earlier) return [];
    return [`prefix '${mine}' is already used by lab ${earlier.node.path}; two labs must not own the same kernel objects. Give this lab its own prefix, e.g. new Lab(scope, '${this.node.id}', { prefix: '${mine.slice(0, 5)}2' }).`];
  }

  private issuesAt(path: string): string[] {
    return (this.resolve().issues ?? []).filter((i) => i.path === path).map((i) => i.message);
  }

  /** Children report their own issues, so cdktf prints each at its construct path. */
  private adopt(child: Construct): void {
    child.node.addValidation({ validate: () => this.issuesAt(child.node.path) });
  }

  /**
   * Before a host, segment or guest is added: the lab must not be rendered yet, and the name must be
   * free (names are construct ids, so a second use would clash in the construct tree).
   */
  private claim(name: string, what: string): void {
    if (this.built) {
      throw new Error(`[${this.node.path}] cannot add ${what} '${name}': the lab was already synthesized; add everything before synth.`);
    }
    if (typeof name !== "string" || name === "") {
      throw new Error(`[${this.node.path}] ${what} name '' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter, e.g. '${what}1'.`);
    }
    this.resolved = undefined;
    const existing = this.node.tryFindChild(name);
    if (existing) {
      throw new Error(`[${this.node.path}] ${what} name '${name}' is already used by ${existing.node.path}; names of hosts, segments and guests must be unique in a lab.`);
    }
  }

}

function nameOf(x: Construct | string): string {
  return typeof x === "string" ? x : x.node.id;
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
