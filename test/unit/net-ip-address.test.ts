import { IpAddress, InvalidValueError } from "../../lib/net";

describe("IpAddress", () => {
  it("parses IPv4 and IPv6 and prints the canonical form", () => {
    expect(IpAddress.parse("192.0.2.10").toString()).toBe("192.0.2.10");
    expect(IpAddress.parse("192.0.2.10").family).toBe(4);
    expect(IpAddress.parse("2001:DB8:0:0::10").toString()).toBe("2001:db8::10");
    expect(IpAddress.parse("2001:db8::10").family).toBe(6);
  });

  it("converts to and from a big integer", () => {
    expect(IpAddress.parse("10.0.0.1").toBigInt()).toBe(0x0a000001n);
    expect(IpAddress.fromBigInt(0x0a000001n, 4).toString()).toBe("10.0.0.1");
    expect(IpAddress.fromBigInt(1n, 6).toString()).toBe("::1");
  });

  it("compares by value", () => {
    expect(IpAddress.parse("fd00::0:1").equals(IpAddress.parse("fd00::1"))).toBe(true);
    expect(IpAddress.parse("10.0.0.1").equals(IpAddress.parse("10.0.0.2"))).toBe(false);
  });

  it("refuses a CIDR and says to drop the mask", () => {
    expect(() => IpAddress.parse("10.0.0.1/24")).toThrow("'10.0.0.1/24' is not an IP address. Give the address without a mask, e.g. '10.0.0.1'.");
  });

  it.each(["10.10.0.999", "web", "", " 10.0.0.1", "10.0.0.1 ", "1.2.3.4.5"])("refuses '%s'", (text) => {
    expect(() => IpAddress.parse(text)).toThrow(InvalidValueError);
    expect(() => IpAddress.parse(text)).toThrow(`'${text}' is not an IP address.`);
  });

  // Regression (fixed): lib/net/ip.ts:10 validates with ipaddr.isValid, which accepts the legacy inet_aton forms:
  // '10.10.0.011' is read as octal and becomes 10.10.0.9, '10.1' becomes 10.0.0.1, '0x0a.0.0.1' and
  // '167772161' become 10.0.0.1. A guest given address '10.10.0.011' silently gets 10.10.0.9.
  // Only dotted-quad decimal (ipaddr.IPv4.isValidFourPartDecimal) should be accepted for IPv4.
  it.each(["10.10.0.011", "10.1", "0x0a.0.0.1", "167772161"])("refuses the non-canonical IPv4 form '%s'", (text) => {
    expect(() => IpAddress.parse(text)).toThrow(InvalidValueError);
  });
});
