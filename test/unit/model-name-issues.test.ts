import { LAB_PATH, emulatedLab, guest, host, pathOf, segment, theIssue } from "./support/lab-specs";

/** Names that would do something if they ever reached a shell unquoted. */
const HOSTILE: Array<[string, string]> = [
  ["a;reboot", "a-reboot"],
  ["$(id)", "id"],
  ["x y", "x-y"],
  ["h1`whoami`", "h1-whoami"],
];

const rule = "is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter.";

describe("resolveLab refuses names that could reach a shell", () => {
  it.each(HOSTILE)("host %j", (name, suggestion) => {
    const issue = theIssue(emulatedLab({ hosts: [host(name)] }));
    expect(issue).toEqual({ path: pathOf(name), message: `host name '${name}' ${rule} Did you mean '${suggestion}'?` });
  });

  it.each(HOSTILE)("guest %j", (name, suggestion) => {
    const issue = theIssue(emulatedLab({ hosts: [host("h1")], guests: [guest(name, "h1")] }));
    expect(issue).toEqual({ path: pathOf(name), message: `guest name '${name}' ${rule} Did you mean '${suggestion}'?` });
  });

  it.each(HOSTILE)("segment %j", (name, suggestion) => {
    const issue = theIssue(emulatedLab({ segments: [segment(name, "10.10.0.0/24")] }));
    expect(issue).toEqual({ path: pathOf(name), message: `segment name '${name}' ${rule} Did you mean '${suggestion}'?` });
  });

  it.each(HOSTILE)("lab %j (with a valid prefix, so only the name is at fault)", (name, suggestion) => {
    const issue = theIssue(emulatedLab({ name, prefix: "lab" }));
    expect(issue).toEqual({ path: LAB_PATH, message: `lab name '${name}' ${rule} Did you mean '${suggestion}'?` });
  });
});

describe("resolveLab prefix", () => {
  it.each(["Lab", "1lab", "toolong", "a-b", "a;b", ""])("refuses prefix %j and gives an example", (prefix) => {
    const issue = theIssue(emulatedLab({ prefix }));
    expect(issue).toEqual({
      path: LAB_PATH,
      message: `prefix '${prefix}' is invalid: use 1-6 characters of a-z and 0-9, starting with a letter, e.g. 'lab1'.`,
    });
  });
});
