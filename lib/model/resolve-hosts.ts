import { Cidr, InvalidValueError, IpAddress, kernelName, validateIdentifier, validateInterfaceName } from "../net";
import { ResolveContext, checkUnique, isDefined } from "./context";
import { External, Host } from "./lab";
import { HostSpec, TargetSpec } from "./spec";
import { validateTarget } from "./validate-parts";

/** Parses the emulated fabric: IPv4, with room for the hosts (from .1 up) and externals (from the top down). */
export function parseFabric(text: string, nodeCount: number): Cidr {
  const cidr = Cidr.parse(text);
  if (cidr.family !== 4) throw new InvalidValueError(`fabric CIDR '${text}' must be IPv4.`);
  if (cidr.size - 2n < BigInt(nodeCount)) {
    throw new InvalidValueError(`fabric CIDR '${text}' has room for ${cidr.size - 2n} hosts and externals but the lab has ${nodeCount}; use a shorter mask.`);
  }
  return cidr;
}

export function resolveHosts(ctx: ResolveContext): Host[] {
  const hosts = ctx.spec.hosts.map((h, i) => resolveHost(ctx, h, i)).filter(isDefined);
  checkUnique(ctx, hosts.map((h) => [h.underlay.toString(), h.path]), "underlay address");
  checkUnderlayFamilies(ctx, hosts);
  const locals = hosts.filter((h) => h.target.kind === "local");
  if (locals.length > 1) ctx.issues.add(locals[1].path, `only one host can be the local machine; '${locals[0].name}' already is.`);
  return hosts;
}

function resolveHost(ctx: ResolveContext, h: HostSpec, index: number): Host | undefined {
  const c = ctx.issues;
  const name = c.check(h.path, () => validateIdentifier(h.name, "host"));
  if (!name) return undefined;
  ctx.claimNodeName(name, h.path, "host");
  let target: TargetSpec | undefined;
  let underlay: IpAddress | undefined;
  if (ctx.emulated) {
    if (h.target && h.target.kind !== "emulated") {
      c.add(h.path, `host '${name}' has a '${h.target.kind}' target, but the lab's backend is emulated; remove the target or use Backend.hosts().`);
    }
    if (h.underlayAddress !== undefined) {
      c.add(h.path, `host '${name}' sets underlayAddress, but emulated hosts get theirs from the fabric; remove it.`);
    }
    target = { kind: "emulated" };
    underlay = ctx.fabric?.addressAt(index + 1);
  } else {
    if (!h.target) {
      c.add(h.path, `host '${name}' has no target: give it target: Target.ssh({ host: '192.0.2.10' }) or Target.local().`);
    } else if (h.target.kind === "emulated") {
      c.add(h.path, `host '${name}' has an emulated target but the lab's backend is 'hosts'; use Backend.emulated() for an emulated lab.`);
    } else {
      target = c.check(h.path, () => validateTarget(h.target!));
    }
    if (h.underlayAddress === undefined) {
      c.add(h.path, `host '${name}' needs underlayAddress: the address other hosts reach it at for VXLAN, e.g. '192.0.2.10'.`);
    } else {
      underlay = c.check(h.path, () => IpAddress.parse(h.underlayAddress!));
    }
    for (const dev of [h.uplink, h.lanInterface]) if (dev !== undefined) c.check(h.path, () => validateInterfaceName(dev));
  }
  if (!target || !underlay) return undefined;
  const emulated = target.kind === "emulated";
  // RFC 3986: an IPv6 literal in a URI authority is bracketed.
  const uriHost = target.kind === "ssh" && target.host.includes(":") ? `[${target.host}]` : target.kind === "ssh" ? target.host : "";
  const sshUser = target.kind === "ssh" ? `${target.user}@${uriHost}` : undefined;
  const sshPort = target.kind === "ssh" && target.port !== 22 ? `:${target.port}` : "";
  return {
    name, path: h.path, target, underlay,
    netns: emulated ? `${ctx.prefix}-${name}` : undefined,
    uplink: emulated ? "eth0" : h.uplink ?? "eth0",
    fabricPort: emulated ? kernelName(ctx.prefix, "f", name) : undefined,
    lanPort: emulated ? "eth1" : h.lanInterface,
    fabricLanPort: emulated ? kernelName(ctx.prefix, "l", name) : undefined,
    libvirtUri: h.libvirtUri ?? (sshUser ? `qemu+ssh://${sshUser}${sshPort}/system` : "qemu:///system"),
    dockerHost: h.dockerHost ?? (sshUser ? `ssh://${sshUser}${sshPort}` : "unix:///var/run/docker.sock"),
  };
}

/** A VXLAN device has one local address, so all hosts of a lab share one underlay family. */
function checkUnderlayFamilies(ctx: ResolveContext, hosts: readonly Host[]): void {
  const first = hosts[0];
  const other = hosts.find((h) => h.underlay.family !== first?.underlay.family);
  if (first && other) {
    ctx.issues.add(other.path, `host '${other.name}' has an IPv${other.underlay.family} underlay (${other.underlay}) but '${first.name}' has IPv${first.underlay.family} (${first.underlay}); VXLAN needs one family: give every host an IPv${first.underlay.family} underlayAddress.`);
  }
}

/** Externals: nodes of the outside world on the fabric, addressed from its top down. */
export function resolveExternals(ctx: ResolveContext): External[] {
  const specs = ctx.spec.externals ?? [];
  if (specs.length > 0 && !ctx.emulated) {
    ctx.issues.add(specs[0].path, `external '${specs[0].name}' is an emulated node, but the lab's backend is 'hosts'; real networks already have their outside world.`);
    return [];
  }
  return specs.map((e, i) => {
    const name = ctx.issues.check(e.path, () => validateIdentifier(e.name, "external"));
    if (name) ctx.claimNodeName(name, e.path, "external");
    const addresses = (e.addresses ?? []).map((a) => ctx.issues.check(e.path, () => Cidr.parse(a))).filter(isDefined);
    if (!name || !ctx.fabric || addresses.length !== (e.addresses ?? []).length) return undefined;
    return {
      name, path: e.path, netns: `${ctx.prefix}-${name}`,
      address: ctx.fabric.addressAt(ctx.fabric.size - 2n - BigInt(i)),
      fabricPort: kernelName(ctx.prefix, "f", name),
      addresses,
    };
  }).filter(isDefined);
}
