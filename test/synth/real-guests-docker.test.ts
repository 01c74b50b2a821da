import { synthJson } from "../support/labs";
import { realLab } from "./support/real-lab";
import { hooksByStage, theResource } from "./support/terraform-json";

describe("a container on a real host becomes Docker resources", () => {
  const json = synthJson((s) => { realLab(s); });
  const network = theResource(json, "docker_network");
  const container = theResource(json, "docker_container");
  const image = theResource(json, "docker_image");
  const h2Provider = "docker.docker_h2";

  it("a Docker provider per host with containers, aliased by host, over SSH with user and port", () => {
    expect(json.provider.docker).toEqual([{ alias: "docker_h2", host: "ssh://ops@192.0.2.11:2222" }]);
  });

  it("a bridge network on the segment's bridge device, with the segment's subnet and MTU, and no Docker gateway or NAT", () => {
    expect(network.body).toMatchObject({
      provider: h2Provider, name: "lab-blue", driver: "bridge",
      options: {
        "com.docker.network.bridge.name": "labb-blue", "com.docker.network.driver.mtu": "1450",
        "com.docker.network.bridge.inhibit_ipv4": "true", "com.docker.network.bridge.enable_ip_masquerade": "false",
      },
      ipam_config: [{ subnet: "10.20.0.0/24" }],
    });
  });

  it("the network waits for the host's network hook and its rules (the host guard)", () => {
    const hooks = hooksByStage(json);
    expect(network.body.depends_on).toEqual([`terraform_data.${hooks["network/h2"].name}`, `terraform_data.${hooks["firewall/h2"].name}`]);
  });

  it("the container joins the network with its static address", () => {
    expect(container.body).toMatchObject({
      provider: h2Provider, name: "lab-ct1", hostname: "ct1",
      image: `\${docker_image.${image.name}.image_id}`,
      networks_advanced: [{ name: `\${docker_network.${network.name}.name}`, ipv4_address: "10.20.0.22" }],
      network_mode: `\${docker_network.${network.name}.name}`,
    });
    expect(image.body).toMatchObject({ provider: h2Provider, name: "nginx:1.27" });
  });

  it("no libvirt resource on the container's host", () => {
    const onH2 = Object.values<any>(json.resource).flatMap((byName) => Object.values<any>(byName)).filter((r) => String(r.provider).endsWith("_h2"));
    expect(onH2.every((r) => String(r.provider).startsWith("docker."))).toBe(true);
    expect(onH2).toHaveLength(3);
  });
});
