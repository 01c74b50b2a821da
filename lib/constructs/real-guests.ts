import { ITerraformDependable, TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { CloudinitDisk } from "../../.gen/providers/libvirt/cloudinit-disk";
import { Domain } from "../../.gen/providers/libvirt/domain";
import { LibvirtProvider } from "../../.gen/providers/libvirt/provider";
import { Volume } from "../../.gen/providers/libvirt/volume";
import { Network as LibvirtNetwork } from "../../.gen/providers/libvirt/network";
import { Guest, ResolvedLab, Segment } from "../model";
import { firewallId, networkStageId } from "../render";
import { cloudInitNetworkConfig, cloudInitUserData } from "./cloud-init";
import { StageHook } from "./stage-hook";
import { tapNamesXslt } from "./tap-names";

/**
 * Guests of a lab on real hosts: libvirt domains for VMs and Docker containers, each plugged into
 * its segment's bridge after the host's network stage has built it. One provider per host (alias =
 * host name), because every host has its own libvirt and Docker daemon. Ids of our own constructs
 * start with a capital letter, so they never clash with a guest's name (always lower case).
 */
export class RealGuests extends Construct {
  constructor(scope: Construct, id: string, lab: ResolvedLab, hooks: ReadonlyMap<string, StageHook>) {
    super(scope, id);
    const segments = new Map(lab.segments.map((s) => [s.name, s]));
    for (const host of lab.hosts) {
      const guests = lab.guests.filter((g) => g.host === host.name);
      if (guests.length === 0) continue;
      const scopeH = new Construct(this, host.name);
      // After the bridges exist and the host's rules are in force.
      const net = hooks.get(networkStageId(host.name));
      const after = [net, hooks.get(firewallId(host.name))]
        .filter((h): h is StageHook => h !== undefined).map((h) => h.resource as ITerraformDependable);
      const vms = guests.filter((g) => g.compute.kind === "vm");
      const containers = guests.filter((g) => g.compute.kind === "container");
      if (vms.length > 0) {
        const provider = new LibvirtProvider(scopeH, "Libvirt", { alias: `libvirt_${host.name.replace(/-/g, "_")}`, uri: host.libvirtUri });
        const networks = libvirtNetworks(scopeH, lab, vms, segments, provider, after);
        for (const g of vms) vmFor(scopeH, lab, g, segments, networks, provider, after);
      }
      if (containers.length > 0) {
        const provider = new DockerProvider(scopeH, "Docker", { alias: `docker_${host.name.replace(/-/g, "_")}`, host: host.dockerHost });
        // Terraform's JSON wants a bare reference here; cdktf would write it as "${...}".
        const replaceWith = net ? [`${net.resource.terraformResourceType}.${net.resource.friendlyUniqueId}`] : [];
        containersFor(scopeH, lab, containers, segments, provider, after, replaceWith);
      }
    }
  }
}

/**
 * NICs on nat networks attach through a libvirt network in bridge mode around the lab's bridge, so
 * `virsh net-list` shows the tenant network; the lab's own gateway does the NAT, not libvirt's.
 */
function libvirtNetworks(
  scope: Construct, lab: ResolvedLab, vms: readonly Guest[], segments: Map<string, Segment>, provider: TerraformProvider,
  after: ITerraformDependable[],
): Map<string, LibvirtNetwork> {
  const out = new Map<string, LibvirtNetwork>();
  for (const segName of new Set(vms.flatMap((g) => g.nics.map((n) => n.segment)))) {
    const seg = segments.get(segName)!;
    if (seg.mode !== "nat") continue;
    out.set(segName, new LibvirtNetwork(scope, `Network-${segName}`, {
      provider, name: `${lab.prefix}-${segName}`, mode: "bridge", bridge: seg.bridge, autostart: true, dependsOn: after,
    }));
  }
  return out;
}

function vmFor(
  scope: Construct, lab: ResolvedLab, g: Guest, segments: Map<string, Segment>, networks: Map<string, LibvirtNetwork>,
  provider: TerraformProvider, after: ITerraformDependable[],
): void {
  if (g.compute.kind !== "vm") return;
  const vm = g.compute.vm;
  const c = new Construct(scope, g.name);
  const name = `${lab.prefix}-${g.name}`;
  const base = new Volume(c, "base", { provider, name: `${name}-base.qcow2`, pool: vm.pool, source: vm.image, format: "qcow2" });
  const disk = new Volume(c, "disk", { provider, name: `${name}.qcow2`, pool: vm.pool, baseVolumeId: base.id, format: "qcow2" });
  const seed = new CloudinitDisk(c, "cloudinit", {
    provider, name: `${name}-cloudinit.iso`, pool: vm.pool,
    userData: cloudInitUserData(g.name, vm),
    networkConfig: cloudInitNetworkConfig(g.nics, segments),
  });
  new Domain(c, "domain", {
    provider, name, memory: vm.memoryMiB, vcpu: vm.vcpus, cloudinit: seed.id,
    disk: [{ volumeId: disk.id }],
    xml: g.nics.length > 0 ? { xslt: tapNamesXslt(g.nics) } : undefined,
    networkInterface: g.nics.map((n) => {
      const net = networks.get(n.segment);
      return net ? { networkId: net.id, mac: n.mac.toString() } : { bridge: segments.get(n.segment)!.bridge, mac: n.mac.toString() };
    }),
    dependsOn: after,
  });
}

function containersFor(
  scope: Construct, lab: ResolvedLab, guests: readonly Guest[], segments: Map<string, Segment>,
  provider: TerraformProvider, after: ITerraformDependable[], replaceWith: string[],
): void {
  // A Docker network per segment on this host, on the bridge the network stage made (Docker reuses it).
  const networks = new Map<string, Network>();
  for (const segName of new Set(guests.flatMap((g) => g.nics.map((n) => n.segment)))) {
    const seg = segments.get(segName)!;
    networks.set(segName, new Network(scope, `Network-${segName}`, {
      provider, name: `${lab.prefix}-${segName}`, driver: "bridge",
      // Docker must not take over the lab's bridge: no gateway address on it (the segment spans
      // hosts, one address would exist on each), no masquerading; guests talk freely on it.
      options: {
        "com.docker.network.bridge.name": seg.bridge,
        "com.docker.network.driver.mtu": String(seg.mtu),
        "com.docker.network.bridge.inhibit_ipv4": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "false",
        "com.docker.network.bridge.enable_icc": "true",
      },
      // The gateway Docker gives containers as their default route: the segment's router, if any.
      ipamConfig: [
        { subnet: seg.cidr.toString(), ...(seg.gateway ? { gateway: seg.gateway.address.toString() } : {}) },
        ...(seg.cidr6 ? [{ subnet: seg.cidr6.toString(), ...(seg.gateway?.address6 ? { gateway: seg.gateway.address6.toString() } : {}) }] : []),
      ],
      ipv6: seg.cidr.family === 6 || seg.cidr6 !== undefined,
      dependsOn: after,
      lifecycle: { replaceTriggeredBy: replaceWith },
    }));
  }
  const images = new Map<string, Image>();
  const containers = new Map<string, Container>();
  for (const g of guests) {
    if (g.compute.kind !== "container") continue;
    const ref = g.compute.container.image;
    if (!images.has(ref)) images.set(ref, new Image(scope, `Image-${images.size}`, { provider, name: ref, keepLocally: true }));
    containers.set(g.name, new Container(scope, g.name, {
      provider, name: `${lab.prefix}-${g.name}`, hostname: g.name, image: images.get(ref)!.imageId,
      networkMode: dockerNetworkMode(lab, g, networks),
      networksAdvanced: g.nics.map((n) => ({
        name: networks.get(n.segment)!.name,
        ...(n.address.family === 4 ? { ipv4Address: n.address.toString() } : { ipv6Address: n.address.toString() }),
        ...(n.address6 ? { ipv6Address: n.address6.toString() } : {}),
      })),
      mustRun: true,
      // A rebuilt bridge loses the container's veth: recreate the container with it.
      lifecycle: { replaceTriggeredBy: replaceWith },
    }));
  }
  // Docker joins a container:<peer> namespace only once the peer runs.
  for (const g of guests) {
    const mode = g.compute.kind === "container" ? g.compute.container.networkMode : undefined;
    if (mode?.kind === "container") containers.get(g.name)!.dependsOn = [containers.get(mode.guest)!.fqn];
  }
}

/**
 * Docker's network_mode: host, none, or container:<name> as asked; bridge-mode guests join their
 * first lab network, not Docker's default bridge, which would be a way out of the lab.
 */
function dockerNetworkMode(lab: ResolvedLab, g: Guest, networks: Map<string, Network>): string {
  const mode = g.compute.kind === "container" ? g.compute.container.networkMode ?? { kind: "bridge" } : { kind: "bridge" as const };
  switch (mode.kind) {
    case "host": return "host";
    case "none": return "none";
    case "container": return `container:${lab.prefix}-${mode.guest}`;
    case "bridge": return g.nics.length === 0 ? "none" : networks.get(g.nics[0].segment)!.name;
  }
}
