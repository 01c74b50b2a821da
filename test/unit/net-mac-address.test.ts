import fc from "fast-check";
import { InvalidValueError, MacAddress } from "../../lib/net";

describe("MacAddress.parse", () => {
  it("normalizes case and dashes", () => {
    expect(MacAddress.parse("52-54-00-AB-CD-EF").toString()).toBe("52:54:00:ab:cd:ef");
  });

  it.each(["52:54:00:ab:cd", "52:54:00:ab:cd:ef:01", "5254.00ab.cdef", "zz:54:00:ab:cd:ef", ""])("refuses '%s' with an example", (text) => {
    expect(() => MacAddress.parse(text)).toThrow(`'${text}' is not a MAC address such as '52:54:00:12:34:56'.`);
  });

  it.each(["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01"])("refuses the multicast address %s", (text) => {
    expect(() => MacAddress.parse(text)).toThrow(InvalidValueError);
    expect(() => MacAddress.parse(text)).toThrow(`'${text}' is a multicast MAC address; a NIC needs a unicast one (even first byte).`);
  });
});

describe("MacAddress.derive", () => {
  it("is stable for a seed and differs between seeds", () => {
    expect(MacAddress.derive("demo/web/0").toString()).toBe(MacAddress.derive("demo/web/0").toString());
    expect(MacAddress.derive("demo/web/0").toString()).not.toBe(MacAddress.derive("demo/web/1").toString());
  });

  it("always gives a unicast MAC under QEMU's prefix 52:54:00 that parses back unchanged", () => {
    fc.assert(fc.property(fc.string(), (seed) => {
      const mac = MacAddress.derive(seed).toString();
      expect(mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
      expect(MacAddress.parse(mac).toString()).toBe(mac);
    }));
  });
});
