import { Construct } from "constructs";
import { Backend, Lab, Tunnel } from "../../lib";

/**
 * Two tenants with the same subnet on Open vSwitch across `hosts` emulated hosts (an overlay
 * cluster): a guest of each tenant on each host, blue's bN and red's rN both at 10.0.0.(10+N).
 * Each host runs its own ovsdb-server and ovs-vswitchd; blue and red never exchange a packet.
 *
 *   h1: b1 r1      h2: b2 r2      h3: b3 r3
 *    \ br-int / br-tun ==== VXLAN ==== br-tun / br-int /
 */
export function overlayLab(scope: Construct, name = "overlay", hosts = 3, tunnel: Tunnel = Tunnel.vxlan()): Lab {
  const lab = new Lab(scope, name, { backend: Backend.emulated() });
  const hs = Array.from({ length: hosts }, (_, i) => lab.addHost(`h${i + 1}`));
  const cluster = lab.addOverlayCluster("sdn", { hosts: hs, tunnel });
  const blue = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
  const red = lab.addTenant("red").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
  hs.forEach((host, i) => {
    lab.addGuest(`b${i + 1}`, { host, nics: [{ segment: blue, address: `10.0.0.${11 + i}` }] });
    lab.addGuest(`r${i + 1}`, { host, nics: [{ segment: red, address: `10.0.0.${11 + i}` }] });
  });
  return lab;
}
