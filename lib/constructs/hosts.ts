import { Construct } from "constructs";
import { ExternalSpec, HostSpec } from "../model";
import { Target } from "./backend";
import type { Lab } from "./lab";
import { LabRegistry, labOf } from "./lab-registry";

export interface HostProps {
  /** How artifacts reach the host; required for Backend.hosts(), not allowed for emulated labs. */
  readonly target?: Target;
  /** The host's VXLAN endpoint address; required for Backend.hosts(). */
  readonly underlayAddress?: string;
  /** Real hosts: the device with the underlay address (NAT egress, floating IPs). @default "eth0" */
  readonly uplink?: string;
  /** Real hosts: a spare NIC on the physical LAN for a bridged network, e.g. "eth1". */
  readonly lanInterface?: string;
  /** libvirt URI. @default qemu+ssh://user@host/system for SSH targets, qemu:///system locally */
  readonly libvirtUri?: string;
  /** Docker daemon. @default ssh://user@host for SSH targets, the local socket otherwise */
  readonly dockerHost?: string;
}

/** Where a part of a lab belongs and what it is called there. */
export interface PartProps {
  /** The lab it belongs to. @default the Lab that encloses its scope */
  readonly lab?: Lab;
  /**
   * Its name in the lab, which names kernel objects and is what other parts refer to. Unique per
   * kind in the lab (hosts, guests, externals and pods share one kind). @default the construct id
   */
  readonly name?: string;
}

export interface HostConstructProps extends HostProps, PartProps {}

/** A host of the lab (an emulated namespace or a real machine). */
export class Host extends Construct {
  readonly spec: HostSpec;
  /** @internal */
  readonly _lab: LabRegistry;

  /** A host of `props.lab` (or use `lab.addHost(name, props)`). */
  constructor(scope: Construct, id: string, props: HostConstructProps = {}) {
    const lab = labOf(scope, id, props.lab, "host");
    const name = props.name ?? id;
    super(lab._claim("host", name, scope, id), id);
    this._lab = lab;
    this.spec = {
      name, path: "", target: props.target?.spec, underlayAddress: props.underlayAddress, uplink: props.uplink,
      lanInterface: props.lanInterface, libvirtUri: props.libvirtUri, dockerHost: props.dockerHost,
    };
    lab._add("host", name, this);
  }

  /** The host's name in the lab. */
  get name(): string {
    return this.spec.name;
  }
}

export interface ExternalProps {
  /** Addresses it owns besides its fabric address, e.g. an admin net '203.0.113.0/24'. */
  readonly addresses?: readonly string[];
}

export interface ExternalConstructProps extends ExternalProps, PartProps {}

/** A node of the outside world on an emulated lab's underlay: a client, an admin, "the internet". */
export class External extends Construct {
  readonly spec: ExternalSpec;

  /** An external of `props.lab` (or use `lab.addExternal(name, props)`). */
  constructor(scope: Construct, id: string, props: ExternalConstructProps = {}) {
    const lab = labOf(scope, id, props.lab, "external");
    const name = props.name ?? id;
    super(lab._claim("external", name, scope, id), id);
    this.spec = { name, path: "", addresses: props.addresses };
    lab._add("external", name, this);
  }

  /** The external's name in the lab. */
  get name(): string {
    return this.spec.name;
  }
}

/** The lab-wide name of a part given as a construct or by name. */
export function nameOf(x: { readonly name: string } | string): string {
  return typeof x === "string" ? x : x.name;
}
