import { Nic, VmSpec } from "../model";

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

/** Netplan v2 network config with static addresses, matched by MAC so NIC order cannot confuse it. */
export function cloudInitNetworkConfig(nics: readonly Nic[]): string {
  const lines = ["version: 2", "ethernets:"];
  for (const n of nics) {
    lines.push(
      `  ${n.guestDev}:`,
      "    match:",
      `      macaddress: "${n.mac}"`,
      `    set-name: ${n.guestDev}`,
      "    addresses:",
      `      - ${n.address}/${n.prefixLength}`,
    );
  }
  return lines.join("\n") + "\n";
}
