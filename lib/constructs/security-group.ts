import { Construct } from "constructs";
import { SecurityGroupSpec, SecurityRuleSpec } from "../model";
import { IPeer, PeerSpec, Port, peerText } from "../net";
import { PartProps } from "./hosts";
import { LabRegistry, labOf } from "./lab-registry";

const SG_SYMBOL = Symbol.for("cdktf-cloudnet.SecurityGroup");

/** Something with security groups whose traffic can be allowed: a group, or a guest through its groups. */
export interface IConnectable {
  readonly connections: Connections;
}

export interface SecurityGroupProps {
  /** What the group is for (documentation for readers of the lab; not rendered). */
  readonly description?: string;
  /**
   * Egress is open unless this is false or an egress rule is added explicitly. Rules that
   * `connections` adds on the other side matter only where egress is restricted.
   * @default true
   */
  readonly allowAllOutbound?: boolean;
}

export interface SecurityGroupConstructProps extends SecurityGroupProps, PartProps {}

/**
 * A cloud security group: stateful, default deny for ingress, egress open unless egress rules are
 * given; members are guests' NICs wherever they sit. Use a group as a peer to allow its members.
 */
export class SecurityGroup extends Construct implements IPeer, IConnectable {
  /** True for any SecurityGroup, also one from another copy of this package. */
  static isSecurityGroup(x: unknown): x is SecurityGroup {
    return typeof x === "object" && x !== null && SG_SYMBOL in x;
  }

  readonly connections: Connections;
  readonly description?: string;
  /** The group's name in the lab. */
  readonly name: string;
  private readonly lab: LabRegistry;
  private readonly props: SecurityGroupProps;
  private readonly ingress = new Map<string, SecurityRuleSpec>();
  private readonly egress = new Map<string, SecurityRuleSpec>();

  /**
   * A group of `props.lab`, or of the Lab that encloses `scope` (so `new SecurityGroup(lab, "web")`
   * works too); or use `lab.addSecurityGroup(name, props)`.
   */
  constructor(scope: Construct, id: string, props: SecurityGroupConstructProps = {}) {
    const lab = labOf(scope, id, props.lab, "security group");
    const name = props.name ?? id;
    super(lab._claim("security group", name, scope, id), id);
    Object.defineProperty(this, SG_SYMBOL, { value: true });
    this.lab = lab;
    this.name = name;
    this.props = props;
    this.description = props.description;
    this.connections = new Connections(this);
    lab._add("security group", name, this);
  }

  get peerSpec(): PeerSpec {
    return { kind: "group", group: this.name, lab: this.lab.node.path };
  }

  /** Allows traffic from `peer` to the members on `port`. */
  addIngressRule(peer: IPeer, port: Port, description?: string): void {
    this.add(this.ingress, peer, port, description, false);
  }

  /** Allows traffic from the members to `peer` on `port`; the first one restricts egress to such rules. */
  addEgressRule(peer: IPeer, port: Port, description?: string): void {
    this.add(this.egress, peer, port, description, false);
  }

  /** @internal An egress rule written by a `connections` call: it does not restrict egress by itself. */
  _addImpliedEgressRule(peer: IPeer, port: Port, description?: string): void {
    this.add(this.egress, peer, port, description, true);
  }

  /** @internal */
  _spec(): SecurityGroupSpec {
    return {
      name: this.name, path: this.node.path, allowAllOutbound: this.props.allowAllOutbound,
      ingress: [...this.ingress.values()], egress: [...this.egress.values()],
    };
  }

  toString(): string {
    return `group ${this.name}`;
  }

  /** Rules are de-duplicated by peer and port; an explicit rule outranks an implied one. */
  private add(rules: Map<string, SecurityRuleSpec>, peer: IPeer, port: Port, description: string | undefined, implied: boolean): void {
    // Address peers by their text (Peer.anyIpv4() is 0.0.0.0/0); group peers with their lab, so a
    // namesake group of another lab is another peer.
    const p = peer.peerSpec;
    const key = `${p.kind === "group" ? `group ${p.lab}/${p.group}` : peerText(p)}|${JSON.stringify(port.spec)}`;
    const existing = rules.get(key);
    if (existing && (implied || !existing.implied)) return;
    this.lab._invalidate(this.node.path);
    rules.set(key, { path: this.node.path, peer: peer.peerSpec, port: port.spec, description, implied });
  }
}

/**
 * Both sides of a permission at once, as in AWS CDK: `db.connections.allowFrom(web, Port.tcp(3306))`
 * adds the ingress rule to db and the matching egress rule to web.
 */
export class Connections {
  constructor(private readonly group: SecurityGroup) {}

  allowFrom(other: IConnectable | IPeer, port: Port, description?: string): void {
    this.group.addIngressRule(peerOf(other), port, description);
    const g = groupOf(other);
    if (g) g._addImpliedEgressRule(this.group, port, description);
  }

  allowTo(other: IConnectable | IPeer, port: Port, description?: string): void {
    this.group._addImpliedEgressRule(peerOf(other), port, description);
    const g = groupOf(other);
    if (g) g.addIngressRule(this.group, port, description);
  }

  /** Members may talk to each other on `port`. */
  allowInternally(port: Port, description?: string): void {
    this.allowFrom(this.group, port, description);
  }
}

function groupOf(x: IConnectable | IPeer): SecurityGroup | undefined {
  if (SecurityGroup.isSecurityGroup(x)) return x;
  const c = (x as IConnectable).connections;
  return c ? (c as unknown as { group: SecurityGroup }).group : undefined;
}

function peerOf(x: IConnectable | IPeer): IPeer {
  return "peerSpec" in x ? x : groupOf(x)!;
}
