import { Rate } from "../../lib/net";

describe("Rate: units that cannot be misread", () => {
  it.each([
    ["30Mbit", 30e6], ["30 mbit", 30e6], ["30Mbit/s", 30e6], ["30Mbits/s", 30e6], ["30Mb/s", 30e6],
    ["1.5Gbit", 1.5e9], ["500kbit", 500e3], ["8bit", 8], ["3.75MB/s", 30e6], ["125kB/s", 1e6],
  ])("parses %s as %d bit/s", (text, bits) => {
    expect(Rate.parse(text).bitsPerSecond).toBe(bits);
  });

  it("builds from explicit units and renders for tc in bits, which tc cannot misread", () => {
    expect(Rate.mbit(30).toTc()).toBe("30000000bit");
    expect(Rate.kbit(1.5).toTc()).toBe("1500bit");
    expect(Rate.gbit(1).bitsPerSecond).toBe(1e9);
    expect(Rate.bytesPerSecond(1_250_000).toString()).toBe("10Mbit");
    expect(Rate.mbit(2.5).toString()).toBe("2.5Mbit");
  });

  it("refuses tc's kbps/mbps (bytes to tc, bits to most people), saying what to write instead", () => {
    expect(() => Rate.parse("30Mbps")).toThrow("'30Mbps' is ambiguous: tc reads it as megabytes per second, most people as megabits; write '30Mbit' for bits or '30MB/s' for bytes.");
    expect(() => Rate.parse("64kbps")).toThrow("write '64kbit' for bits or '64kB/s' for bytes.");
  });

  it.each([["30"], ["30 furlongs"], ["fast"], ["-5Mbit"], [""]])("refuses %p with the form it wants", (text) => {
    expect(() => Rate.parse(text)).toThrow(/is not a rate: write a number and a unit/);
  });

  it("refuses zero, negative and fractional-bit rates", () => {
    expect(() => Rate.mbit(0)).toThrow("rate 0 mbit is not positive; give a rate above zero.");
    expect(() => Rate.mbit(-1)).toThrow("not positive");
    expect(() => Rate.bit(4)).toThrow("below 8 bit/s");
  });
});
