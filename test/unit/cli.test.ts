import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InventoryStore } from "../../lib/cli/inventory-store";
import { main } from "../../lib/cli/main";
import { inventoryOf } from "../../lib/render";
import { demoSpec, resolveOk } from "./support/lab-specs";

/** The CLI the messages must name: the platform this run resolves cdktf to (jest.config.js). */
const CLI = process.env.CLOUDNET_PLATFORM === "cdktn" ? "cdktn" : "cdktf";

/** Runs the CLI against `dir` and captures what it prints. */
function cli(dir: string, ...argv: string[]): { status: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => { out.push(a.join(" ")); });
  const error = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => { err.push(a.join(" ")); });
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => { err.push(String(chunk)); return true; });
  const stdout = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; });
  try {
    const status = main(argv, new InventoryStore(dir));
    if (typeof status !== "number") throw new Error("only deploy and destroy are asynchronous");
    return { status, out: out.join("\n"), err: err.join("\n") };
  } finally {
    [log, error, stderr, stdout].forEach((s) => s.mockRestore());
  }
}

describe("cloudnet CLI", () => {
  let dir: string;
  let empty: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-cli-"));
    empty = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-cli-empty-"));
    fs.writeFileSync(path.join(dir, "demo.json"), JSON.stringify(inventoryOf(resolveOk(demoSpec())), null, 2));
    fs.writeFileSync(path.join(dir, "other.json"), JSON.stringify({ lab: "other", prefix: "oth", nodes: [{ name: "x1", kind: "host", netns: "oth-x1", addresses: ["198.18.0.1/24"] }] }));
    fs.writeFileSync(path.join(dir, "notes.txt"), "not an inventory");
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it("verify <lab> for a lab that is not deployed (e.g. after a reboot wiped /run) says so and how to rebuild, exit 2", () => {
    const r = cli(empty, "verify", "demo");
    expect(r.status).toBe(2);
    expect(r.out).toContain("lab demo is not deployed on this machine");
    expect(r.out).toContain(`${CLI} destroy && ${CLI} deploy`);
  });

  it("verify <lab> for an inventory written before verify existed asks for one redeploy, exit 1", () => {
    const r = cli(dir, "verify", "other");
    expect(r.status).toBe(1);
    expect(r.out).toContain("redeploy the lab once");
  });

  it("list <lab> prints a table of the lab's nodes", () => {
    const r = cli(dir, "list", "demo");
    expect(r.status).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("lab demo (prefix demo)");
    expect(lines[1].split(/\s{2,}/)).toEqual(["NODE", "KIND", "ON HOST", "NETNS", "ADDRESSES"]);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ["h1", "host", "-", "demo-h1", "198.18.0.1/24"],
      ["h2", "host", "-", "demo-h2", "198.18.0.2/24"],
      ["web", "guest", "h1", "demo-web", "10.10.0.11/24"],
      ["db", "guest", "h2", "demo-db", "10.10.0.12/24"],
    ]);
    expect(r.out).not.toContain("other");
  });

  it("list without a lab prints every deployed lab, in name order", () => {
    const r = cli(dir, "list");
    expect(r.status).toBe(0);
    const headers = r.out.split("\n").filter((l) => l.startsWith("lab "));
    expect(headers).toEqual(["lab demo (prefix demo)", "lab other (prefix oth)"]);
  });

  it("list of an unknown lab fails and names the deployed ones", () => {
    const r = cli(dir, "list", "nope");
    expect(r.status).toBe(1);
    expect(r.err).toContain("cloudnet: no deployed lab named 'nope' (deployed: demo, other).");
  });

  it("with nothing deployed, list says how to deploy the demo", () => {
    const r = cli(empty, "list");
    expect(r.status).toBe(0);
    expect(r.out).toBe("No emulated lab is deployed. Deploy the demo with `npm run demo`.");
    const unknown = cli(empty, "list", "demo");
    expect(unknown.status).toBe(1);
    expect(unknown.err).toContain("no deployed lab named 'demo'; deploy one with `npm run demo`.");
  });

  it("exec on an unknown node fails before running anything and names the lab's nodes", () => {
    const r = cli(dir, "exec", "demo", "nosuch", "--", "true");
    expect(r.status).toBe(1);
    expect(r.err).toContain("cloudnet: lab 'demo' has no node 'nosuch'; its nodes are: h1, h2, web, db.");
  });

  it("exec in an unknown lab fails and names the deployed labs", () => {
    const r = cli(dir, "exec", "nope", "web", "--", "true");
    expect(r.status).toBe(1);
    expect(r.err).toContain("no deployed lab named 'nope' (deployed: demo, other).");
  });

  it("an unknown command fails with commander's message", () => {
    const r = cli(dir, "frobnicate");
    expect(r.status).not.toBe(0);
    expect(r.err).toContain("unknown command 'frobnicate'");
  });

  it("--help succeeds and lists the commands", () => {
    const r = cli(dir, "--help");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/list \[options\] \[lab\]|list \[lab\]/);
    expect(r.out).toContain("exec");
  });
});
