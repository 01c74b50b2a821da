import { Cidr, InvalidValueError, IpAddress } from "../../lib/net";

describe("Cidr.parse", () => {
  it("parses an IPv4 network and prints it canonically", () => {
    const c = Cidr.parse("10.10.0.0/24");
    expect(c.toString()).toBe("10.10.0.0/24");
    expect(c.family).toBe(4);
    expect(c.prefixLength).toBe(24);
    expect(c.size).toBe(256n);
  });

  it("parses an IPv6 network and normalizes it", () => {
    const c = Cidr.parse("fd00:0:0:0::/64");
    expect(c.toString()).toBe("fd00::/64");
    expect(c.family).toBe(6);
    expect(c.size).toBe(1n << 64n);
  });

  it("suggests /32 when the mask of an IPv4 address is missing", () => {
    expect(() => Cidr.parse("10.0.0.1")).toThrow("CIDR mask is missing in '10.0.0.1'. Did you mean '10.0.0.1/32'?");
  });

  it("suggests /128 when the mask of an IPv6 address is missing", () => {
    expect(() => Cidr.parse("fd00::1")).toThrow("CIDR mask is missing in 'fd00::1'. Did you mean 'fd00::1/128'?");
  });

  it("suggests the network when host bits are set (IPv4)", () => {
    expect(() => Cidr.parse("10.0.0.1/24")).toThrow("'10.0.0.1/24' has host bits set. Did you mean '10.0.0.0/24'?");
  });

  it("suggests the network when host bits are set (IPv6)", () => {
    expect(() => Cidr.parse("fd00::1/64")).toThrow("'fd00::1/64' has host bits set. Did you mean 'fd00::/64'?");
  });

  it.each(["10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/ 24", "blue", "", "10.0.0.0/24/8"])(
    "rejects '%s' with an example of a CIDR",
    (text) => {
      expect(() => Cidr.parse(text)).toThrow(InvalidValueError);
      expect(() => Cidr.parse(text)).toThrow(/such as '10\.0\.0\.0\/24'/);
    },
  );

  // Regression (fixed): lib/net/ip.ts:59 parses with ipaddr.parseCIDR, which accepts octal and short IPv4 forms.
  // '010.0.0.0/8' silently becomes 8.0.0.0/8, and '10.10/16' is read as 10.0.0.10/16 and answered
  // with a wrong suggestion ('Did you mean 10.0.0.0/16?'). Both should be refused as not a CIDR.
  it.each(["010.0.0.0/8", "10.10/16"])("refuses the non-canonical IPv4 CIDR '%s'", (text) => {
    expect(() => Cidr.parse(text)).toThrow(/is not a CIDR/);
  });
});

describe("Cidr arithmetic", () => {
  const net = Cidr.parse("10.10.0.0/24");

  it("numbers addresses from the network address", () => {
    expect(net.addressAt(0).toString()).toBe("10.10.0.0");
    expect(net.addressAt(10).toString()).toBe("10.10.0.10");
    expect(net.addressAt(255).toString()).toBe("10.10.0.255");
    expect(Cidr.parse("fd00::/64").addressAt(10n).toString()).toBe("fd00::a");
  });

  it("refuses an address number outside the network and says how many it holds", () => {
    expect(() => net.addressAt(256)).toThrow("10.10.0.0/24 has no address number 256: it holds 256 addresses.");
    expect(() => net.addressAt(-1)).toThrow(InvalidValueError);
  });

  it("contains its own addresses only, and never one of the other family", () => {
    expect(net.contains(IpAddress.parse("10.10.0.77"))).toBe(true);
    expect(net.contains(IpAddress.parse("10.10.1.0"))).toBe(false);
    expect(net.contains(IpAddress.parse("::a0a:0"))).toBe(false);
  });

  it("treats the network and broadcast address as unusable for IPv4 /0-/30 only", () => {
    expect(net.isUsableHost(IpAddress.parse("10.10.0.0"))).toBe(false);
    expect(net.isUsableHost(IpAddress.parse("10.10.0.255"))).toBe(false);
    expect(net.isUsableHost(IpAddress.parse("10.10.0.1"))).toBe(true);
    const p2p = Cidr.parse("192.0.2.0/31");
    expect(p2p.isUsableHost(IpAddress.parse("192.0.2.0"))).toBe(true);
    expect(p2p.isUsableHost(IpAddress.parse("192.0.2.1"))).toBe(true);
    expect(Cidr.parse("fd00::/64").isUsableHost(IpAddress.parse("fd00::"))).toBe(true);
  });

  it("detects overlaps in both directions and not across families", () => {
    expect(net.overlaps(Cidr.parse("10.10.0.128/25"))).toBe(true);
    expect(Cidr.parse("10.0.0.0/8").overlaps(net)).toBe(true);
    expect(net.overlaps(Cidr.parse("10.10.1.0/24"))).toBe(false);
    expect(net.overlaps(Cidr.parse("::/0"))).toBe(false);
  });
});
