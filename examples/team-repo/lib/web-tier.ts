import { Construct } from "constructs";
import { Guest, Host, Lab, NetworkMode, Peer, Port, SecurityGroup, Tenant, TenantNetwork } from "cdktf-cloudnet";

export interface WebTierProps {
  readonly lab: Lab;
  readonly tenant: Tenant;
  /** One web guest per host. */
  readonly hosts: readonly Host[];
  readonly cidr: string;
  /** Names its group and guests (`<name>`, `<name>1`, ...): unique per lab, so one lab can hold several tiers. @default "web" */
  readonly name?: string;
}

/** The team's building block: a nat network, a web group open on tcp/80, and a web guest per host. */
export class WebTier extends Construct {
  readonly network: TenantNetwork;
  readonly web: SecurityGroup;
  readonly guests: Guest[];

  constructor(scope: Construct, id: string, props: WebTierProps) {
    super(scope, id);
    this.network = new TenantNetwork(this, "net", { tenant: props.tenant, cidr: props.cidr, mode: NetworkMode.nat() });
    const name = props.name ?? "web";
    this.web = new SecurityGroup(this, "web", { lab: props.lab, name, description: "web servers" });
    this.web.addIngressRule(Peer.anyIpv4(), Port.tcp(80), "http");
    this.web.connections.allowInternally(Port.icmpType(8), "ping between web servers");
    this.guests = props.hosts.map((host, i) =>
      new Guest(this, `web${i + 1}`, { name: `${name}${i + 1}`, host, nics: [{ segment: this.network }], securityGroups: [this.web] }));
  }
}
