import { Construct } from "constructs";
import { Backend, Compute, Lab, Target } from "../../lib";
import { synthError } from "../support/labs";

/** One real host with a segment and one guest of the given name and kind. */
function labWithGuest(name: string, compute: Compute) {
  return (scope: Construct) => {
    const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
    const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
    const blue = lab.addSegment("blue", { cidr: "10.20.0.0/24" });
    lab.addGuest(name, { host: h1, compute, nics: [{ segment: blue }] });
  };
}

describe("guest names on real hosts", () => {
  it("an ordinary name synthesizes", () => {
    expect(synthError(labWithGuest("web", Compute.container()))).toBeUndefined();
  });

  // Regression (fixed): lib/constructs/real-guests.ts puts the per-host provider ("libvirt", "docker", lines 34 and 38),
  // the Docker networks ("net-<segment>", line 75), the images ("image-<n>", line 87) and the guests
  // themselves (`g.name`, lines 50 and 88) in one construct scope. A guest with one of those valid names
  // crashes synth with constructs' "There is already a Construct with name 'docker' in Construct [h1]"
  // instead of rendering. Guests need their own scope (or reserved names with a validation message).
  it.each([
    ["docker", Compute.container()],
    ["net-blue", Compute.container()],
    ["image-0", Compute.container()],
    ["libvirt", Compute.vm({ image: "/var/lib/images/debian.qcow2" })],
  ])("a guest named '%s' synthesizes", (name, compute) => {
    expect(synthError(labWithGuest(name, compute))).toBeUndefined();
  });
});
