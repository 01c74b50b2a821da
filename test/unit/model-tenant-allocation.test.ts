import fc from "fast-check";
import { DEFAULT_TENANT } from "../../lib/model";
import { renderHostNetwork } from "../../lib/render";
import { emulatedLab, guest, host, hostsLab, resolveOk, segment, sshHost } from "./support/lab-specs";
import { NAT, ROUTED, container } from "./support/tenant-specs";

/** What resolution allocates for tenant networks: gateways, addresses, VLANs, routers, namespaces. */

const h12 = [host("h1"), host("h2")];
const addresses = (lab: ReturnType<typeof resolveOk>) =>
  Object.fromEntries(lab.guests.map((g) => [g.name, g.nics.map((n) => [n.address.toString(), n.address6?.toString()])]));

describe("gateway addresses", () => {
  it("the default gateway is .1 and auto-allocated guests start at .10", () => {
    const lab = resolveOk(emulatedLab({
      hosts: h12, segments: [segment("web", "10.1.0.0/24", { mode: NAT })],
      guests: [guest("a", "h1", [{ segment: "web" }]), guest("b", "h2", [{ segment: "web" }])],
    }));
    expect(lab.segments[0].gateway?.address.toString()).toBe("10.1.0.1");
    expect(addresses(lab)).toEqual({ a: [["10.1.0.10", undefined]], b: [["10.1.0.11", undefined]] });
  });

  it("no auto-allocated guest ever gets the gateway's address, for any gateway and number of guests", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 40 }), (gw, n) => {
      const lab = resolveOk(emulatedLab({
        hosts: [host("h1")], segments: [segment("web", "10.1.0.0/24", { mode: { kind: "routed", gateway: `10.1.0.${gw}` } })],
        guests: Array.from({ length: n }, (_, i) => guest(`g${i}`, "h1", [{ segment: "web" }])),
      }));
      const taken = lab.guests.map((g) => g.nics[0].address.toString());
      expect(taken).not.toContain(`10.1.0.${gw}`);
      expect(taken).not.toContain("10.1.0.1");
      expect(new Set(taken).size).toBe(n);
    }), { numRuns: 60 });
  });

  it("dual stack: the IPv6 gateway is ::1 of the ipv6Cidr and guests get address6 from ::a, skipping static ones", () => {
    const lab = resolveOk(emulatedLab({
      hosts: h12, segments: [segment("web", "10.1.0.0/24", { mode: NAT, ipv6Cidr: "fd00:1::/64" })],
      guests: [guest("a", "h1", [{ segment: "web" }]), guest("b", "h2", [{ segment: "web", address6: "fd00:1::a" }]), guest("c", "h2", [{ segment: "web" }])],
    }));
    expect(lab.segments[0].gateway?.address6?.toString()).toBe("fd00:1::1");
    expect(addresses(lab)).toEqual({
      a: [["10.1.0.10", "fd00:1::b"]], b: [["10.1.0.11", "fd00:1::a"]], c: [["10.1.0.12", "fd00:1::c"]],
    });
    expect(lab.guests[0].nics[0].prefixLength6).toBe(64);
  });

  it("isolated segments have no gateway", () => {
    const lab = resolveOk(emulatedLab({ hosts: h12, segments: [segment("web", "10.1.0.0/24", { hosts: ["h1"] })] }));
    expect(lab.segments[0].gateway).toBeUndefined();
  });

  it("the gateway host is the first host by name unless gatewayHost says otherwise", () => {
    const lab = resolveOk(emulatedLab({
      hosts: h12,
      segments: [segment("a", "10.1.0.0/24", { mode: NAT, hosts: ["h2", "h1"] }), segment("b", "10.2.0.0/24", { mode: { kind: "nat", gatewayHost: "h2" }, hosts: ["h1", "h2"] })],
    }));
    expect(lab.segments.map((s) => s.gateway?.host)).toEqual(["h1", "h2"]);
  });
});

describe("VLAN ids", () => {
  it("are allocated from 100, skipping explicit ones (also of later segments)", () => {
    const vlan = (name: string, i: number, id?: number) => segment(name, `10.${i}.0.0/24`, { segmentation: "vlan", vlan: id });
    const lab = resolveOk(emulatedLab({ segments: [vlan("a", 1), vlan("b", 2, 101), vlan("c", 3), vlan("d", 4, 100), vlan("e", 5)] }));
    expect(Object.fromEntries(lab.segments.map((s) => [s.name, s.vlan]))).toEqual({ a: 102, b: 101, c: 103, d: 100, e: 104 });
    expect(lab.segments.every((s) => s.vni === undefined)).toBe(true);
  });

  it("a VLAN segment's overlay device is <prefix>q-<segment>; a VXLAN one's <prefix>v-<segment>", () => {
    const lab = resolveOk(emulatedLab({ name: "t", segments: [segment("a", "10.1.0.0/24", { segmentation: "vlan" }), segment("b", "10.2.0.0/24")] }));
    expect(lab.segments.map((s) => [s.bridge, s.overlayDev])).toEqual([["tb-a", "tq-a"], ["tb-b", "tv-b"]]);
  });
});

describe("routers", () => {
  const lab = resolveOk(emulatedLab({
    name: "t",
    hosts: h12,
    segments: [
      segment("iso", "10.0.0.0/24", { hosts: ["h1"] }),
      segment("web", "10.1.0.0/24", { mode: NAT, hosts: ["h1"] }),
      segment("pub", "10.2.0.0/24", { mode: ROUTED, hosts: ["h2"] }),
    ],
  }));
  const router = (name: string) => lab.segments.find((s) => s.name === name)!.gateway!.router;

  it("emulated: live in namespace <prefix>-rt.<segment>.<gateway host>, with ports <prefix>r-<segment> and <prefix>x-<segment>", () => {
    expect(router("web")).toMatchObject({ netns: "t-rt.web.h1", bridgePort: "tr-web", hostLink: "tx-web" });
    expect(router("pub")).toMatchObject({ netns: "t-rt.pub.h2", bridgePort: "tr-pub", hostLink: "tx-pub" });
  });

  it("emulated hosts share the machine's namespaces: a router moved to another gateway host gets a new namespace", () => {
    const moved = resolveOk(emulatedLab({
      name: "t", hosts: h12, segments: [segment("web", "10.1.0.0/24", { mode: { kind: "nat", gatewayHost: "h2" }, hosts: ["h1", "h2"] })],
    }));
    expect(moved.segments[0].gateway!.router).toMatchObject({ netns: "t-rt.web.h2", bridgePort: "tr-web", hostLink: "tx-web" });
  });

  it("real hosts: live in namespace <prefix>-rt.<segment>, whichever host is the gateway", () => {
    const real = resolveOk(hostsLab({
      name: "t",
      hosts: [sshHost("h1", "192.0.2.11"), sshHost("h2", "192.0.2.12")],
      segments: [segment("web", "10.1.0.0/24", { mode: NAT, hosts: ["h1"] }), segment("pub", "10.2.0.0/24", { mode: ROUTED, hosts: ["h2"] })],
    }));
    expect(real.segments.map((s) => [s.gateway!.host, s.gateway!.router.netns, s.gateway!.router.bridgePort, s.gateway!.router.hostLink])).toEqual([
      ["h1", "t-rt.web", "tr-web", "tx-web"],
      ["h2", "t-rt.pub", "tr-pub", "tx-pub"],
    ]);
  });

  it("get a link-local /30 per segment index as the preferred start: host .4i+1, router .4i+2", () => {
    expect([router("web").hostLinkAddress.toString(), router("web").routerLinkAddress.toString()]).toEqual(["169.254.0.5", "169.254.0.6"]);
    expect([router("pub").hostLinkAddress.toString(), router("pub").routerLinkAddress.toString()]).toEqual(["169.254.0.9", "169.254.0.10"]);
  });

  it("the host picks the link at apply: cn_router_link starts its search at the model's link number (.4i+1 is link i)", () => {
    const onHost = (name: string) => renderHostNetwork(lab, lab.hosts.find((h) => h.name === name)!, [])!.apply;
    expect(onHost("h1")).toContain("read -r cn_host cn_router < <(cn_router_link tx-web 1)");
    expect(onHost("h2")).toContain("read -r cn_host cn_router < <(cn_router_link tx-pub 2)");
    // The model's addresses are only that start: no stage writes them as they are.
    expect(onHost("h1")).not.toContain("169.254.0.5");
    expect(onHost("h2")).not.toContain("169.254.0.9");
  });

  it("link addresses never repeat across many gateway segments", () => {
    const many = resolveOk(emulatedLab({
      hosts: [host("h1")],
      segments: Array.from({ length: 300 }, (_, i) => segment(`s${i}`, `10.${i >> 8}.${i & 255}.0/24`, { mode: NAT, hosts: ["h1"] })),
    }));
    const links = many.segments.flatMap((s) => [s.gateway!.router.hostLinkAddress.toString(), s.gateway!.router.routerLinkAddress.toString()]);
    expect(new Set(links).size).toBe(600);
  });
});

describe("tenants and guest namespaces", () => {
  it("a segment without a tenant belongs to 'default'", () => {
    const lab = resolveOk(emulatedLab({ segments: [segment("a", "10.1.0.0/24"), segment("acme-b", "10.2.0.0/24", { tenant: "acme" })] }));
    expect(lab.segments.map((s) => s.tenant)).toEqual([DEFAULT_TENANT, "acme"]);
    expect(DEFAULT_TENANT).toBe("default");
  });

  it("host mode runs in the host's namespace, container mode in its peer's (followed through a chain), none in its own", () => {
    const lab = resolveOk(emulatedLab({
      name: "t",
      hosts: h12, segments: [segment("web", "10.1.0.0/24")],
      guests: [
        guest("app", "h1", [{ segment: "web" }]),
        container("side", "h1", { kind: "container", guest: "app" }),
        container("side2", "h1", { kind: "container", guest: "side" }),
        container("onhost", "h2", { kind: "host" }),
        container("nonet", "h2", { kind: "none" }),
      ],
    }));
    expect(Object.fromEntries(lab.guests.map((g) => [g.name, [g.netns, g.ownsNetns, g.nics.length]]))).toEqual({
      app: ["t-app", true, 1],
      side: ["t-app", false, 0],
      side2: ["t-app", false, 0],
      onhost: ["t-h2", false, 0],
      nonet: ["t-nonet", true, 0],
    });
  });
});
