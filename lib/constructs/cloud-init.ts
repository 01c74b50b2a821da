import { Nic, Segment, VmSpec } from "../model";
import { linkLocal } from "../render/security";

/** cloud-init user data: hostname and a login user with the SSH key. */
export function cloudInitUserData(hostname: string, vm: VmSpec): string {
  const lines = [
    "#cloud-config",
    `hostname: ${hostname}`,
    "users:",
    `  - name: ${vm.user}`,
    "    sudo: ALL=(ALL) NOPASSWD:ALL",
    "    shell: /bin/bash",
  ];
  if (vm.sshPublicKey) lines.push("    ssh_authorized_keys:", `      - ${JSON.stringify(vm.sshPublicKey)}`);
  return lines.join("\n") + "\n";
}

/**
 * Netplan v2 network config with static addresses, matched by MAC so NIC order cannot confuse it;
 * the first NIC on a network with a gateway gets the default route(s). The IPv6 link-local address
 * is set too (the kernel's own is off), and router advertisements are ignored: the lab sends none.
 */
export function cloudInitNetworkConfig(nics: readonly Nic[], segments: ReadonlyMap<string, Segment>): string {
  const lines = ["version: 2", "ethernets:"];
  let routed = false;
  for (const n of nics) {
    const seg = segments.get(n.segment);
    lines.push(
      `  ${n.guestDev}:`,
      "    match:",
      `      macaddress: "${n.mac}"`,
      `    set-name: ${n.guestDev}`,
      "    addresses:",
      `      - ${n.address}/${n.prefixLength}`,
      ...(n.address6 ? [`      - "${n.address6}/${n.prefixLength6}"`] : []),
      // The link-local address the security groups expect (EUI-64 of the lab's MAC), not one the image derives.
      `      - "${linkLocal(n.mac.toString())}/64"`,
      "    link-local: []",
      "    accept-ra: false",
    );
    if (seg?.mtu) lines.push(`    mtu: ${seg.mtu}`);
    if (seg?.gateway && !routed) {
      routed = true;
      lines.push("    routes:", "      - to: default", `        via: ${seg.gateway.address}`);
      if (seg.gateway.address6 && n.address6) lines.push("      - to: \"::/0\"", `        via: "${seg.gateway.address6}"`);
    }
  }
  return lines.join("\n") + "\n";
}
