import { ComputeSpec } from "../model";
import { ContainerNetwork } from "./network-mode";

export interface VmOptions {
  /** Base image URL or host path, e.g. a Debian `genericcloud` qcow2. */
  readonly image: string;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** @default 1 */
  readonly vcpus?: number;
  /** Login user created by cloud-init. @default "cloud" */
  readonly user?: string;
  /** One line of an OpenSSH public key for the user. */
  readonly sshPublicKey?: string;
  /** libvirt storage pool. @default "default" */
  readonly pool?: string;
}

export interface ContainerOptions {
  /** @default "debian:12-slim" */
  readonly image?: string;
  /** @default ContainerNetwork.bridge() */
  readonly network?: ContainerNetwork;
}

/**
 * What a guest is: a VM (libvirt), a container (Docker), or a bare network namespace. Emulated labs
 * run every guest as a namespace.
 */
export class Compute {
  /**
   * A network namespace with veth NICs on the segment bridges, made by the lab itself (as Mininet's
   * hosts are): guests on real hosts without libvirt or Docker, filtered by security groups like VMs.
   * Run processes in it with `ip netns exec <prefix>-g.<guest> ...` on its host.
   */
  static namespace(): Compute {
    return new Compute({ kind: "namespace" });
  }

  static vm(options: VmOptions): Compute {
    return new Compute({
      kind: "vm",
      vm: {
        image: options.image,
        memoryMiB: options.memoryMiB ?? 512,
        vcpus: options.vcpus ?? 1,
        user: options.user ?? "cloud",
        sshPublicKey: options.sshPublicKey,
        pool: options.pool ?? "default",
      },
    });
  }

  static container(options: ContainerOptions = {}): Compute {
    return new Compute({
      kind: "container",
      container: { image: options.image ?? "debian:12-slim", networkMode: options.network?.spec },
    });
  }

  private constructor(readonly spec: ComputeSpec) {}
}
