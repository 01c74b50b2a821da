import { GuestSpec, HostSpec, Issue, LabSpec, NicSpec, ResolvedLab, SegmentSpec, TargetSpec, formatIssues, resolveLab } from "../../../lib/model";

/**
 * Plain LabSpec builders for unit tests. Paths look like construct paths (`lab/<name>`) so a test
 * can assert where an issue is reported.
 */
export const LAB_PATH = "lab";

export const pathOf = (name: string): string => `${LAB_PATH}/${name}`;

export function host(name: string, extra: Partial<HostSpec> = {}): HostSpec {
  return { name, path: pathOf(name), ...extra };
}

export function sshTarget(address: string, extra: Partial<Extract<TargetSpec, { kind: "ssh" }>> = {}): TargetSpec {
  return { kind: "ssh", host: address, user: "root", port: 22, privateKeyFile: "~/.ssh/id_ed25519", sudo: false, ...extra };
}

/** A host of a `hosts` backend lab, reached over SSH at its underlay address. */
export function sshHost(name: string, address: string, extra: Partial<HostSpec> = {}): HostSpec {
  return host(name, { target: sshTarget(address), underlayAddress: address, ...extra });
}

export function segment(name: string, cidr: string, extra: Partial<SegmentSpec> = {}): SegmentSpec {
  return { name, path: pathOf(name), cidr, ...extra };
}

export function guest(name: string, on: string, nics: readonly NicSpec[] = [], extra: Partial<GuestSpec> = {}): GuestSpec {
  return { name, path: pathOf(name), host: on, compute: { kind: "container", container: { image: "debian:12-slim" } }, nics, ...extra };
}

export function emulatedLab(parts: Partial<LabSpec> = {}): LabSpec {
  return {
    name: "lab", path: LAB_PATH, backend: { kind: "emulated", fabricCidr: "198.18.0.0/24" },
    hosts: [], segments: [], guests: [], ...parts,
  };
}

export function hostsLab(parts: Partial<LabSpec> = {}): LabSpec {
  return emulatedLab({ backend: { kind: "hosts" }, ...parts });
}

/** The demo lab of examples/demo-lab as plain data: h1 and h2, segment blue over both, web on h1, db on h2. */
export function demoSpec(): LabSpec {
  return emulatedLab({
    name: "demo",
    hosts: [host("h1"), host("h2")],
    segments: [segment("blue", "10.10.0.0/24")],
    guests: [
      guest("web", "h1", [{ segment: "blue", address: "10.10.0.11" }]),
      guest("db", "h2", [{ segment: "blue", address: "10.10.0.12" }]),
    ],
  });
}

/** Resolves a spec that must be valid; fails the test with the issues otherwise. */
export function resolveOk(spec: LabSpec): ResolvedLab {
  const r = resolveLab(spec);
  if (!r.lab) throw new Error(`expected a valid lab, got:\n${formatIssues(r.issues)}`);
  return r.lab;
}

/** Resolves a spec that must have exactly one issue, and returns it. */
export function theIssue(spec: LabSpec): Issue {
  const r = resolveLab(spec);
  expect(r.lab).toBeUndefined();
  if (r.issues.length !== 1) throw new Error(`expected exactly one issue, got ${r.issues.length}:\n${formatIssues(r.issues)}`);
  return r.issues[0];
}
