import fc from "fast-check";
import { Cidr, IpAddress } from "../../lib/net";

/** A random IPv4 or IPv6 network: random address bits with the host bits cleared. */
const network = fc.oneof(
  fc.record({ family: fc.constant<4>(4), bits: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), prefix: fc.integer({ min: 0, max: 32 }) }),
  fc.record({ family: fc.constant<6>(6), bits: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), prefix: fc.integer({ min: 0, max: 128 }) }),
).map(({ family, bits, prefix }) => {
  const width = family === 4 ? 32 : 128;
  const host = BigInt(width - prefix);
  const net = IpAddress.fromBigInt((bits >> host) << host, family);
  return Cidr.parse(`${net}/${prefix}`);
});

/** A network and an address number inside it. */
const networkAndOffset = network.chain((cidr) => fc.tuple(fc.constant(cidr), fc.bigInt({ min: 0n, max: cidr.size - 1n })));

describe("Cidr properties", () => {
  it("addressAt(n) is inside the network, n addresses after the network address", () => {
    fc.assert(fc.property(networkAndOffset, ([cidr, n]) => {
      const ip = cidr.addressAt(n);
      expect(cidr.contains(ip)).toBe(true);
      expect(ip.family).toBe(cidr.family);
      expect(ip.toBigInt() - cidr.network.toBigInt()).toBe(n);
    }));
  });

  it("an address printed by addressAt parses back to the same address", () => {
    fc.assert(fc.property(networkAndOffset, ([cidr, n]) => {
      const ip = cidr.addressAt(n);
      expect(IpAddress.parse(ip.toString()).equals(ip)).toBe(true);
    }));
  });

  it("the address right after the last one is outside the network", () => {
    fc.assert(fc.property(network, (cidr) => {
      const next = cidr.network.toBigInt() + cidr.size;
      fc.pre(next < 1n << (cidr.family === 4 ? 32n : 128n));
      expect(cidr.contains(IpAddress.fromBigInt(next, cidr.family))).toBe(false);
    }));
  });

  it("the printed form parses back to an equal network", () => {
    fc.assert(fc.property(network, (cidr) => {
      expect(Cidr.parse(cidr.toString()).toString()).toBe(cidr.toString());
    }));
  });
});
