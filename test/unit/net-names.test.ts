import { InvalidValueError, MAX_INTERFACE_NAME, kernelName, shortHash, validateIdentifier, validateInterfaceName } from "../../lib/net";

describe("validateIdentifier", () => {
  it.each(["h1", "web-server", "a", "a".repeat(32), "x0-9"])("accepts '%s'", (name) => {
    expect(validateIdentifier(name, "host")).toBe(name);
  });

  it.each([
    ["Web_Server", "web-server"],
    ["a;reboot", "a-reboot"],
    ["$(id)", "id"],
    ["x y", "x-y"],
    ["h1`whoami`", "h1-whoami"],
    ["1web", "web"],
  ])("refuses '%s', says the rule, and suggests '%s'", (name, suggestion) => {
    expect(() => validateIdentifier(name, "guest")).toThrow(
      `guest name '${name}' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean '${suggestion}'?`,
    );
  });

  it("gives no suggestion when nothing usable is left", () => {
    expect(() => validateIdentifier("123", "lab")).toThrow(/^lab name '123' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter\.$/);
  });

  it("refuses names longer than 32 characters and suggests the first 32", () => {
    const long = "a".repeat(33);
    expect(() => validateIdentifier(long, "segment")).toThrow(`Did you mean '${"a".repeat(32)}'?`);
  });

  it("refuses values that are not strings", () => {
    expect(() => validateIdentifier(undefined, "host")).toThrow(InvalidValueError);
    expect(() => validateIdentifier(42, "host")).toThrow(InvalidValueError);
  });
});

describe("validateInterfaceName", () => {
  it.each(["eth0", "demob-blue", "x".repeat(MAX_INTERFACE_NAME)])("accepts '%s'", (name) => {
    expect(validateInterfaceName(name)).toBe(name);
  });

  it.each(["", "x".repeat(16), "a/b", "a:b", "a b", "a\tb", ".", "..", "ééééééééé", "eth0;id", "$(id)"])("refuses %j and states the rule", (name) => {
    expect(() => validateInterfaceName(name)).toThrow(`interface name '${name}' is invalid: use 1-15 of A-Z a-z 0-9 _ . @ -, e.g. 'eth0'.`);
  });
});

describe("kernelName", () => {
  it("is readable when it fits", () => {
    expect(kernelName("demo", "b", "blue")).toBe("demob-blue");
  });

  it("hashes the name part when the readable form is too long, filling exactly 15 bytes", () => {
    const name = kernelName("demo", "t", "a-very-long-guest-name-0");
    expect(name).toBe(`demot-${shortHash("a-very-long-guest-name-0", 9)}`);
    expect(name).toHaveLength(MAX_INTERFACE_NAME);
  });

  it("refuses a prefix that leaves fewer than 4 bytes for the name, and says the limit", () => {
    expect(() => kernelName("abcdefghij", "b", "a-long-segment-name")).toThrow("prefix 'abcdefghijb' leaves no room for a name within 15 bytes.");
  });

  it("honours another limit, e.g. an ipset name of 31", () => {
    const name = kernelName("demo", "s", "x".repeat(40), 31);
    expect(name.length).toBe(31);
    expect(name.startsWith("demos-")).toBe(true);
  });
});
