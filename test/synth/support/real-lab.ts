import { Construct } from "constructs";
import { Backend, Compute, Lab, Target } from "../../../lib";

export const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkL3Y0 ops@laptop";
export const VM_IMAGE = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2";

/**
 * A lab on two real hosts reached over SSH: segment blue spans both, a VM on h1 and a container on h2.
 * h2 is reached as a non-root user with sudo on port 2222.
 */
export function realLab(scope: Construct, id = "lab"): Lab {
  const lab = new Lab(scope, id, { backend: Backend.hosts() });
  const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
  const h2 = lab.addHost("h2", {
    target: Target.ssh({ host: "192.0.2.11", user: "ops", port: 2222, privateKeyFile: "~/.ssh/lab", sudo: true }),
    underlayAddress: "192.0.2.11",
  });
  const blue = lab.addSegment("blue", { cidr: "10.20.0.0/24" });
  lab.addGuest("vm1", {
    host: h1,
    compute: Compute.vm({ image: VM_IMAGE, memoryMiB: 1024, vcpus: 2, user: "ops", sshPublicKey: SSH_KEY }),
    nics: [{ segment: blue, address: "10.20.0.21" }],
  });
  lab.addGuest("ct1", { host: h2, compute: Compute.container({ image: "nginx:1.27" }), nics: [{ segment: blue, address: "10.20.0.22" }] });
  return lab;
}
