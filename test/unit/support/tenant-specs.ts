import { ContainerNetworkMode, GuestSpec, NicSpec, PortForwardSpec, ServiceSpec } from "../../../lib/model";
import { guest, pathOf } from "./lab-specs";

/** Builders for tenant-network specs, next to those of lab-specs.ts. */

export const NAT = { kind: "nat" } as const;
export const ROUTED = { kind: "routed" } as const;
export const BRIDGED = { kind: "bridged" } as const;

/** A container guest in one of Docker's network modes. */
export function container(name: string, on: string, networkMode: ContainerNetworkMode, nics: readonly NicSpec[] = [], extra: Partial<GuestSpec> = {}): GuestSpec {
  return guest(name, on, nics, { compute: { kind: "container", container: { image: "debian:12-slim", networkMode } }, ...extra });
}

/** A tcp service `name` at 10.96.0.10:80 on `segment`, one backend per guest on port 8080. */
export function service(name: string, segment: string, backends: readonly string[], extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, path: pathOf(name), segment, protocol: "tcp", vip: "10.96.0.10", port: 80,
    backends: backends.map((g) => ({ guest: g, port: 8080 })), ...extra,
  };
}

/** A tcp port forward of `hostPort` to port 80 of `to`, reported at `lab/<id>`. */
export function portForward(id: string, segment: string, hostPort: number, to: string, extra: Partial<PortForwardSpec> = {}): PortForwardSpec {
  return { path: pathOf(id), segment, protocol: "tcp", hostPort, guest: to, port: 80, ...extra };
}
