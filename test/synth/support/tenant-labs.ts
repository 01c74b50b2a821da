import { Construct } from "constructs";
import { Backend, Compute, ContainerNetwork, Lab, NetworkMode, Target } from "../../../lib";
import { VM_IMAGE } from "./real-lab";

/**
 * Tenant labs on real hosts for the synth tier.
 *
 * `dockerModesLab`: one SSH host, tenant acme's isolated network back, and a container in each of
 * Docker's network modes: app (bridge, NIC on back), onhost (host), nonet (none), side (app's).
 *
 * `tenantVmLab`: h1 is the local machine and carries the routers (gateways); h2 is reached over SSH
 * and runs the VMs. acme's networks: web (nat), back (isolated), pub (routed), dual (nat, dual stack).
 * vm1 [web, back], vm2 [back], vm3 [pub], vm4 [dual], vm5 [back, pub, web].
 */
export function dockerModesLab(scope: Construct): Lab {
  const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
  const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
  const back = lab.addTenant("acme").addNetwork("back", { cidr: "10.1.0.0/24" });
  const app = lab.addGuest("app", {
    host: h1, compute: Compute.container({ image: "nginx:1.27", network: ContainerNetwork.bridge() }), nics: [{ segment: back, address: "10.1.0.20" }],
  });
  lab.addGuest("onhost", { host: h1, compute: Compute.container({ network: ContainerNetwork.host() }) });
  lab.addGuest("nonet", { host: h1, compute: Compute.container({ network: ContainerNetwork.none() }) });
  lab.addGuest("side", { host: h1, compute: Compute.container({ network: ContainerNetwork.container(app) }) });
  return lab;
}

export function tenantVmLab(scope: Construct): Lab {
  const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
  lab.addHost("h1", { target: Target.local(), underlayAddress: "192.0.2.10" });
  const h2 = lab.addHost("h2", { target: Target.ssh({ host: "192.0.2.11" }), underlayAddress: "192.0.2.11" });
  const acme = lab.addTenant("acme");
  const onH1 = { gatewayHost: "h1" };
  const web = acme.addNetwork("web", { cidr: "10.0.0.0/24", mode: NetworkMode.nat(onH1), hosts: ["h1"] });
  const back = acme.addNetwork("back", { cidr: "10.1.0.0/24" });
  const pub = acme.addNetwork("pub", { cidr: "10.2.0.0/24", mode: NetworkMode.routed(onH1), hosts: ["h1"] });
  const dual = acme.addNetwork("dual", { cidr: "10.3.0.0/24", ipv6Cidr: "fd00:3::/64", mode: NetworkMode.nat(onH1), hosts: ["h1"] });
  const vm = (name: string, segments: ReadonlyArray<typeof web>) =>
    lab.addGuest(name, { host: h2, compute: Compute.vm({ image: VM_IMAGE }), nics: segments.map((segment) => ({ segment })) });
  vm("vm1", [web, back]);
  vm("vm2", [back]);
  vm("vm3", [pub]);
  vm("vm4", [dual]);
  vm("vm5", [back, pub, web]);
  return lab;
}
