import { Construct } from "constructs";
import { Backend, Lab } from "../../lib";

/**
 * The demo lab: two emulated hosts, one segment "blue" spanning both over VXLAN,
 * and a guest on each host.
 *
 *   h1 (198.18.0.1)                         h2 (198.18.0.2)
 *   [demob-blue]==== VXLAN VNI 1000 ====[demob-blue]
 *        |                                    |
 *      web 10.10.0.11                       db 10.10.0.12
 */
export function demoLab(scope: Construct, id = "demo"): Lab {
  const lab = new Lab(scope, id, { backend: Backend.emulated() });
  const h1 = lab.addHost("h1");
  const h2 = lab.addHost("h2");
  const blue = lab.addSegment("blue", { cidr: "10.10.0.0/24" });
  lab.addGuest("web", { host: h1, nics: [{ segment: blue, address: "10.10.0.11" }] });
  lab.addGuest("db", { host: h2, nics: [{ segment: blue, address: "10.10.0.12" }] });
  return lab;
}
