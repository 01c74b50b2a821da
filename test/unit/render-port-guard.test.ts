import { IpAddress } from "../../lib/net";
import { SecurityGroupSpec } from "../../lib/model";
import { arpGuard, linkLocal } from "../../lib/render";
import { emulatedLab, guest, host, pathOf, resolveOk, segment } from "./support/lab-specs";
import { nftGuard } from "./support/nft-guard";

/**
 * The guarded port's nft chain (portGuard, rendered by arpGuard): tagged frames, foreign ethertypes,
 * routers' and servers' messages and neighbour advertisements for anyone else are dropped.
 * w1 is dual-stack (10.20.0.11, fd00:20::11), v1 IPv4 only (10.30.0.21), both in group "web".
 */
const sg: SecurityGroupSpec = { name: "web", path: pathOf("web"), ingress: [], egress: [] };
const lab = resolveOk(emulatedLab({
  hosts: [host("h1")],
  segments: [segment("app", "10.20.0.0/24", { ipv6Cidr: "fd00:20::/64" }), segment("four", "10.30.0.0/24")],
  guests: [
    guest("w1", "h1", [{ segment: "app", address: "10.20.0.11", address6: "fd00:20::11" }], { securityGroups: ["web"] }),
    guest("v1", "h1", [{ segment: "four", address: "10.30.0.21" }], { securityGroups: ["web"] }),
  ],
  securityGroups: [sg],
}));
const nic = (g: string) => lab.guests.find((x) => x.name === g)!.nics[0];
const guard = nftGuard(arpGuard(lab, lab.hosts[0]));
const chainOf = (g: string) => guard.chains.get(`port_${nic(g).hostDev.replace(/-/g, "_")}`)!;
const hex = (address: string) => `0x${IpAddress.parse(address).toBigInt().toString(16).padStart(32, "0")}`;

describe("portGuard (through arpGuard)", () => {
  it("accepts TCP over IPv4 from the guest's own MAC and address first, by compares only", () => {
    for (const g of ["w1", "v1"]) expect(chainOf(g)[0]).toBe(`ether type ip ether saddr ${nic(g).mac} ip saddr ${nic(g).address} meta l4proto tcp accept`);
  });

  it("then allows only the IPv4, IPv6 and ARP ethertypes (802.1Q and 802.1ad tags are other ethertypes), then the source MAC, then the IPv4 and IPv6 sources", () => {
    for (const g of ["w1", "v1"]) {
      const rules = chainOf(g);
      expect(rules.slice(1, 4)).toEqual(["ether type != { ip, ip6, arp } drop", `ether saddr != ${nic(g).mac} drop`, `ip saddr != { ${nic(g).address}, 0.0.0.0 } drop`]);
      expect(rules[4]).toMatch(/^ip6 saddr != \{ fe80::\S+, (\S+, )?:: \} drop$/);
    }
  });

  it("checks a neighbour advertisement's target against the guest's own link-local (EUI-64 of its MAC) and global addresses, in hex", () => {
    const mac = nic("w1").mac.toString();
    const ll = hex(linkLocal(mac));
    // fe80::/64, then the MAC with ff:fe in its middle (and the universal/local bit flipped).
    expect(ll).toMatch(/^0xfe80000000000000[0-9a-f]{6}fffe[0-9a-f]{6}$/);
    expect(ll.slice(-6)).toBe(mac.split(":").slice(3).join(""));
    expect(chainOf("w1")).toContain(`icmpv6 type nd-neighbor-advert @th,64,128 != { ${ll}, ${hex("fd00:20::11")} } drop`);
    // A guest without a global IPv6 address speaks only for its link-local one.
    expect(chainOf("v1")).toContain(`icmpv6 type nd-neighbor-advert @th,64,128 != { ${hex(linkLocal(nic("v1").mac.toString()))} } drop`);
    const na = (g: string, target: string) => guard.judge({ iif: nic(g).hostDev, saddr: nic(g).mac.toString(), icmpv6: { type: "nd-neighbor-advert", target, tlla: nic(g).mac.toString() } });
    expect(na("w1", linkLocal(mac))).toBe("accept");
    expect(na("w1", "fd00:20::11")).toBe("accept");
    expect(na("v1", "fd00:20::11")).toBe("drop");
    expect(na("w1", linkLocal(nic("v1").mac.toString()))).toBe("drop");
  });

  it("and its only option, if any, is the guest's own link-layer address", () => {
    for (const g of ["w1", "v1"]) {
      expect(chainOf(g)).toEqual(expect.arrayContaining([
        "icmpv6 type nd-neighbor-advert ip6 length != { 24, 32 } drop",
        "icmpv6 type nd-neighbor-advert ip6 length 32 @th,192,16 != 0x0201 drop",
        `icmpv6 type nd-neighbor-advert ip6 length 32 @th,208,48 != 0x${nic(g).mac.toString().replace(/:/g, "")} drop`,
      ]));
    }
  });

  it("drops RAs, redirects and DHCP server replies (v4 and v6)", () => {
    expect(chainOf("w1")).toEqual(expect.arrayContaining([
      "icmpv6 type { nd-router-advert, nd-redirect } drop", "icmp type { redirect, router-advertisement } drop",
      "udp sport 67 udp dport 68 drop", "udp sport 547 udp dport 546 drop",
    ]));
  });

  it("ARP only from its own MAC and IPv4 address", () => {
    for (const g of ["w1", "v1"]) {
      expect(chainOf(g)).toEqual(expect.arrayContaining([`arp saddr ether != ${nic(g).mac} drop`, `arp saddr ip != ${nic(g).address} drop`]));
    }
    const v1 = nic("v1").mac.toString();
    expect(guard.judge({ iif: nic("v1").hostDev, saddr: v1, arp: { ether: v1, ip: "10.30.0.21" } })).toBe("accept");
    expect(guard.judge({ iif: nic("v1").hostDev, saddr: v1, arp: { ether: v1, ip: "10.30.0.1" } })).toBe("drop");
  });
});
