import { synthJson } from "../support/labs";
import { dockerModesLab } from "./support/tenant-labs";
import { resourcesOf, theResource } from "./support/terraform-json";

/** Docker's network modes on a real host (dockerModesLab): bridge with a NIC, host, none, container:<other>. */
describe("containers in each Docker network mode", () => {
  const json = synthJson((s) => { dockerModesLab(s); });
  const containers = Object.entries<any>(resourcesOf(json, "docker_container"));
  const named = (guest: string) => containers.find(([, body]) => body.name === `lab-${guest}`)!;
  const network = theResource(json, "docker_network");

  it("one container per guest", () => {
    expect(containers.map(([, b]) => b.name).sort()).toEqual(["lab-app", "lab-nonet", "lab-onhost", "lab-side"]);
  });

  it("bridge: network_mode is the Docker network of the guest's first tenant network, which it joins with its address", () => {
    expect(network.body).toMatchObject({ name: "lab-acme-back", options: { "com.docker.network.bridge.name": "labb-acme-back" } });
    expect(named("app")[1]).toMatchObject({
      network_mode: `\${docker_network.${network.name}.name}`,
      networks_advanced: [{ name: `\${docker_network.${network.name}.name}`, ipv4_address: "10.1.0.20" }],
    });
  });

  it.each([["onhost", "host"], ["nonet", "none"], ["side", "container:lab-app"]])("%s: network_mode %s, and no Docker network", (guest, mode) => {
    expect(named(guest)[1].network_mode).toBe(mode);
    expect(named(guest)[1].networks_advanced).toEqual([]);
  });

  // Regression (fixed): lib/constructs/real-guests.ts containersFor / dockerNetworkMode (~line 120-145): a container in mode
  // container:<peer> gets network_mode as the literal "container:lab-app", with no reference to and no depends_on
  // on the peer's docker_container, so Terraform may create it first (Docker then fails: "No such container") and
  // destroy the peer before it. Repro: this test. Fix: create peer containers first and give the sharing one
  // dependsOn: [peerContainer], keeping network_mode "container:lab-app".
  it("container:<other> waits for the other container", () => {
    const [appName] = named("app");
    expect(JSON.stringify(named("side")[1])).toContain(`docker_container.${appName}`);
  });
});
