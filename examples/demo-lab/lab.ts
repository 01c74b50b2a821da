import { Construct } from "constructs";
import { Backend, Lab, NetworkMode } from "../../lib";

/**
 * The demo lab: two emulated hosts and "the internet" on their underlay; two tenants with the
 * same subnet on both hosts. Blue's network is NAT'ed through a router on h1 and web has a floating
 * IP; red's is isolated. Blue and red never exchange a packet.
 *
 *                         internet 198.18.0.254
 *                                  |
 *   h1 198.18.0.1 ---------- fabric 198.18.0.0/24 ---------- h2 198.18.0.2
 *   router blue-app 10.10.0.1 (NAT, floating IP 198.18.0.100 -> web)
 *   [demob-blue-app] ======= VXLAN VNI 1000 ======= [demob-blue-app]
 *        web 10.10.0.11                                  db 10.10.0.12
 *   [demob-red-app]  ======= VXLAN VNI 1001 ======= [demob-red-app]
 *                                                        red1 10.10.0.11
 */
export function demoLab(scope: Construct, id = "demo"): Lab {
  const lab = new Lab(scope, id, { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const h2 = lab.addHost("h2");
  lab.addExternal("internet");

  const blue = lab.addTenant("blue").addNetwork("app", { cidr: "10.10.0.0/24", mode: NetworkMode.nat() });
  const red = lab.addTenant("red").addNetwork("app", { cidr: "10.10.0.0/24" });

  lab.addGuest("web", { host: h1, nics: [{ segment: blue, address: "10.10.0.11", floatingIp: "198.18.0.100" }] });
  lab.addGuest("db", { host: h2, nics: [{ segment: blue, address: "10.10.0.12" }] });
  lab.addGuest("red1", { host: h2, nics: [{ segment: red, address: "10.10.0.11" }] });
  return lab;
}
