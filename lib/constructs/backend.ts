import { BackendSpec, TargetSpec } from "../model";

/** Default underlay of emulated labs: RFC 2544's benchmarking range, unlikely to clash with real networks. */
export const DEFAULT_FABRIC_CIDR = "198.18.0.0/24";

export interface EmulatedBackendOptions {
  /** IPv4 network that joins the emulated hosts. @default 198.18.0.0/24 */
  readonly fabricCidr?: string;
}

/** Where a lab's hosts and guests live. */
export class Backend {
  /**
   * The whole lab on the machine that runs Terraform: hosts and guests are network namespaces,
   * joined by an emulated underlay. Needs root and iproute2; no provider is downloaded.
   */
  static emulated(options: EmulatedBackendOptions = {}): Backend {
    return new Backend({ kind: "emulated", fabricCidr: options.fabricCidr ?? DEFAULT_FABRIC_CIDR });
  }

  /** Real Linux hosts reached by SSH or locally; VMs become libvirt domains, containers Docker containers. */
  static hosts(): Backend {
    return new Backend({ kind: "hosts" });
  }

  private constructor(readonly spec: BackendSpec) {}
}

export interface SshTargetOptions {
  /** Host name or address to connect to. */
  readonly host: string;
  /** @default root */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /** Private key file on the machine that runs Terraform. @default ~/.ssh/id_ed25519 */
  readonly privateKeyFile?: string;
  /** Run host scripts through `sudo -n` (for a user other than root). @default false */
  readonly sudo?: boolean;
}

/** How host artifacts reach a real host. */
export class Target {
  /** Over SSH with Terraform's `remote-exec`. */
  static ssh(options: SshTargetOptions): Target {
    return new Target({
      kind: "ssh",
      host: options.host,
      user: options.user ?? "root",
      port: options.port ?? 22,
      privateKeyFile: options.privateKeyFile ?? "~/.ssh/id_ed25519",
      sudo: options.sudo ?? false,
    });
  }

  /** The machine that runs Terraform, with `local-exec`. */
  static local(): Target {
    return new Target({ kind: "local" });
  }

  private constructor(readonly spec: TargetSpec) {}
}
