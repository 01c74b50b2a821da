import { gzipSync } from "zlib";
import { Resolution, ResolvedLab, formatIssues } from "../../lib/model";
import { INVENTORY_DIR, Stage, declaredState, inventoryOf, renderInventory, renderLab } from "../../lib/render";
import { securityLab } from "../kernel/fixtures/security-lab";
import { tenantLab } from "../kernel/fixtures/tenant-lab";
import { demoSpec, resolveOk } from "./support/lab-specs";
import { runBash } from "./support/bash";

const resolved = (l: { resolve(): Resolution }): ResolvedLab => {
  const r = l.resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
};

/** The lab's stages and its inventory stage, as renderLab makes them. */
function rendered(lab: ResolvedLab): { stages: Stage[]; inventory: Stage } {
  const stages = renderLab(lab);
  return { stages, inventory: stages.find((s) => s.id === "inventory")! };
}

/** The JSON the inventory stage's heredoc writes, as the shell gives it back. */
function writtenJson(apply: string): any {
  const heredocPart = apply.slice(apply.indexOf("{ base64 -d"), apply.indexOf("\nmv -f"));
  const r = runBash(heredocPart.replace(/gzip -dc > \S+;/, "gzip -dc;"));
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe("inventory", () => {
  const lab = resolveOk(demoSpec());
  const { stages, inventory } = rendered(lab);
  /** The stages the inventory describes: everything renderLab puts before it but the helper library's (which declares nothing). */
  const before = stages.slice(0, stages.indexOf(inventory)).filter((s) => s.id !== "helpers").map(({ library: _, ...s }) => s);

  it("lists hosts with their fabric address and guests with their host and addresses, under the lab's construct path", () => {
    expect(inventoryOf(lab)).toEqual({
      lab: "demo",
      path: "lab",
      prefix: "demo",
      nodes: [
        { name: "h1", kind: "host", netns: "demo-h1", addresses: ["198.18.0.1/24"] },
        { name: "h2", kind: "host", netns: "demo-h2", addresses: ["198.18.0.2/24"] },
        { name: "web", kind: "guest", netns: "demo-web", host: "h1", addresses: ["10.10.0.11/24"] },
        { name: "db", kind: "guest", netns: "demo-db", host: "h2", addresses: ["10.10.0.12/24"] },
      ],
    });
  });

  it("the path is that of the Lab construct", () => {
    expect(inventoryOf(resolved(securityLab("sg"))).path).toBe("kernel/sg");
  });

  it("writes the JSON (nodes and declared state), gzip'ed and base64'ed in a quoted heredoc, into a temporary file, then renames it", () => {
    const apply = inventory.apply;
    const file = `${INVENTORY_DIR}/demo.json`;
    const json = JSON.stringify({ ...inventoryOf(lab), declared: declaredState(lab, before) });
    const packed = gzipSync(Buffer.from(json), { level: 9 }).toString("base64").replace(/(.{76})/g, "$1\n");
    expect(apply).toContain(`{ base64 -d | gzip -dc > ${file}.tmp; } <<'CLOUDNET_EOF'\n${packed}\nCLOUDNET_EOF`);
    expect(apply.split("\n").every((l) => l.length <= 400)).toBe(true);
    expect(apply.indexOf(`mv -f ${file}.tmp ${file}`)).toBeGreaterThan(apply.indexOf("CLOUDNET_EOF\n"));
  });

  it("the heredoc gives back exactly the inventory JSON, with the declared state, when run", () => {
    expect(writtenJson(inventory.apply)).toEqual({ ...inventoryOf(lab), declared: declaredState(lab, before) });
  });

  it("runs after exactly the stages it declares (not itself, not the converge stages that follow)", () => {
    expect(inventory.after).toEqual(["fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "guest/web", "guest/db"]);
    expect(writtenJson(inventory.apply).declared.stages).toEqual(inventory.after);
    expect(stages.slice(stages.indexOf(inventory) + 1).map((s) => s.id)).toEqual(["converge/h1", "converge/h2", "converge"]);
  });

  it("declares the demo lab's namespaces and links, each at its namespace with its owning stage", () => {
    expect(writtenJson(inventory.apply).declared).toEqual({
      stages: inventory.after,
      after: Object.fromEntries(stages.filter((s) => inventory.after.includes(s.id)).map((s) => [s.id, s.after])),
      namespaces: [
        { name: "demo-fabric", stage: "fabric" },
        { name: "demo-h1", stage: "host/h1" },
        { name: "demo-h2", stage: "host/h2" },
        { name: "demo-web", stage: "guest/web" },
        { name: "demo-db", stage: "guest/db" },
      ],
      links: [
        // A host's fabric port lives in the fabric namespace, though the host stage makes it.
        { netns: "demo-fabric", name: "demof-h1", stage: "host/h1" },
        { netns: "demo-h1", name: "demob-blue", stage: "network/h1" },
        { netns: "demo-h1", name: "demov-blue", stage: "network/h1" },
        { netns: "demo-h1", name: "demot-web-0", stage: "network/h1" },
        { netns: "demo-fabric", name: "demof-h2", stage: "host/h2" },
        { netns: "demo-h2", name: "demob-blue", stage: "network/h2" },
        { netns: "demo-h2", name: "demov-blue", stage: "network/h2" },
        { netns: "demo-h2", name: "demot-db-0", stage: "network/h2" },
      ],
      // The host guard on each host with a segment, both families: conntrack zones, FORWARD and INPUT.
      rules: ["h1", "h2"].flatMap((h) => [4, 6].map((family) => ({
        netns: `demo-${h}`, family, stage: `firewall/${h}`, payload: expect.stringMatching(/^\*raw\n:CN-demo-ZONE - \[0:0\]\n[\s\S]*\*filter\n:CN-demo-FWD - \[0:0\]\n:CN-demo-IN - \[0:0\]\n/),
        hooks: [
          { table: "raw", builtin: "PREROUTING", chain: "CN-demo-ZONE" },
          { table: "filter", builtin: "FORWARD", chain: "CN-demo-FWD" },
          { table: "filter", builtin: "INPUT", chain: "CN-demo-IN" },
        ],
      }))),
      ipsets: [], nftTables: [], routes: [],
    });
    for (const r of writtenJson(inventory.apply).declared.rules) expect(stages.find((s) => s.id === r.stage)!.apply).toContain(r.payload);
  });

  it("with no stages it declares nothing", () => {
    expect(writtenJson(renderInventory(lab, []).apply).declared).toEqual({
      stages: [], after: {}, namespaces: [], links: [], rules: [], ipsets: [], nftTables: [], routes: [],
    });
  });
});

describe("declared state of the two-tier security lab (routed shop-app, gateway h1; web1 on h1, web2 and db1 on h2)", () => {
  const lab = resolved(securityLab("sg"));
  const { inventory, stages } = rendered(lab);
  const declared = writtenJson(inventory.apply).declared;
  const stage = (id: string) => stages.find((s) => s.id === id)!;

  it("namespaces: the router's is the network stage's of its gateway host", () => {
    expect(declared.namespaces).toEqual([
      { name: "sg-fabric", stage: "fabric" },
      { name: "sg-h1", stage: "host/h1" },
      { name: "sg-rt.shop-app.h1", stage: "network/h1" },
      { name: "sg-h2", stage: "host/h2" },
      { name: "sg-admin", stage: "external/admin" },
      { name: "sg-outsider", stage: "external/outsider" },
      { name: "sg-web1", stage: "guest/web1" },
      { name: "sg-web2", stage: "guest/web2" },
      { name: "sg-db1", stage: "guest/db1" },
    ]);
  });

  it("links: the router's ports on the gateway host, the guests' host ends on theirs", () => {
    expect(declared.links.filter((l: any) => l.stage === "network/h1")).toEqual([
      { netns: "sg-h1", name: "sgb-shop-app", stage: "network/h1" },
      { netns: "sg-h1", name: "sgv-shop-app", stage: "network/h1" },
      { netns: "sg-h1", name: "sgr-shop-app", stage: "network/h1" },
      { netns: "sg-h1", name: "sgx-shop-app", stage: "network/h1" },
      { netns: "sg-h1", name: "sgt-web1-0", stage: "network/h1" },
    ]);
    expect(declared.links.filter((l: any) => l.stage === "network/h2")).toEqual([
      { netns: "sg-h2", name: "sgb-shop-app", stage: "network/h2" },
      { netns: "sg-h2", name: "sgv-shop-app", stage: "network/h2" },
      { netns: "sg-h2", name: "sgt-web2-0", stage: "network/h2" },
      { netns: "sg-h2", name: "sgt-db1-0", stage: "network/h2" },
    ]);
  });

  it("ipsets: web's sets where a rule uses them (db1's ingress on h2), per family, of h2's firewall stage", () => {
    expect(declared.ipsets).toEqual([
      { netns: "sg-h2", name: "cn-sg-web-4", family: 4, stage: "firewall/h2" },
      { netns: "sg-h2", name: "cn-sg-web-6", family: 6, stage: "firewall/h2" },
    ]);
  });

  it("nftTables: the ARP guard's bridge table on each host with guarded NICs", () => {
    expect(declared.nftTables).toEqual([
      { netns: "sg-h1", name: "cn_sg", stage: "firewall/h1" },
      { netns: "sg-h2", name: "cn_sg", stage: "firewall/h2" },
    ]);
  });

  it("routes: the subnet to the router on h1 and through h1 on h2, the admin's address on both", () => {
    expect(declared.routes).toEqual([
      { netns: "sg-h1", to: "10.20.0.0/24", stage: "network/h1" },
      { netns: "sg-h1", to: "203.0.113.10/32", stage: "network/h1" },
      { netns: "sg-h2", to: "10.20.0.0/24", stage: "network/h2" },
      { netns: "sg-h2", to: "203.0.113.10/32", stage: "network/h2" },
    ]);
  });

  it("rules: each host's IPv4 and IPv6 payloads with their hooks, of its firewall stage, exactly as that stage applies them", () => {
    expect(declared.rules.map((r: any) => [r.netns, r.family, r.stage])).toEqual([
      ["sg-h1", 4, "firewall/h1"], ["sg-h1", 6, "firewall/h1"], ["sg-h2", 4, "firewall/h2"], ["sg-h2", 6, "firewall/h2"],
    ]);
    for (const r of declared.rules) {
      expect(stage(r.stage).apply).toContain(r.payload);
      expect(r.payload).toMatch(/^\*(raw|filter)\n/);
    }
    // The host guard everywhere (its FWD jumps to the security groups' SG, which has no hook of its own).
    const guard = ["raw PREROUTING CN-sg-ZONE", "filter FORWARD CN-sg-FWD", "filter INPUT CN-sg-IN"];
    expect(declared.rules.map((r: any) => r.hooks.map((h: any) => `${h.table} ${h.builtin} ${h.chain}`))).toEqual([
      // h1 is the gateway: its IPv4 payload holds the gateway's NAT as well.
      ["nat PREROUTING CN-sg-DNAT", "nat OUTPUT CN-sg-DNAT", "nat POSTROUTING CN-sg-SNAT", ...guard],
      guard,
      guard,
      guard,
    ]);
  });
});

describe("declared rules outside the stage's own namespace (tenant lab: acme-web's router on h1, m1 intercepted)", () => {
  const lab = resolved(tenantLab("tl"));
  const { inventory, stages } = rendered(lab);
  const declared = writtenJson(inventory.apply).declared;

  it("a router's rules are at the router's namespace, a guest's interception at the guest's, each with its stage", () => {
    expect(declared.rules.map((r: any) => [r.netns, r.family, r.stage, r.hooks.map((h: any) => `${h.table} ${h.builtin} ${h.chain}`)])).toEqual([
      ["tl-h1", 4, "firewall/h1", [
        "nat PREROUTING CN-tl-DNAT", "nat OUTPUT CN-tl-DNAT", "nat POSTROUTING CN-tl-SNAT", "raw PREROUTING CN-tl-ZONE", "filter FORWARD CN-tl-FWD", "filter INPUT CN-tl-IN",
      ]],
      ["tl-h1", 6, "firewall/h1", ["raw PREROUTING CN-tl-ZONE", "filter FORWARD CN-tl-FWD", "filter INPUT CN-tl-IN"]],
      ["tl-rt.acme-web.h1", 4, "firewall/h1", ["nat PREROUTING CN-tl-DNAT", "nat OUTPUT CN-tl-DNAT", "nat POSTROUTING CN-tl-SNAT"]],
      ["tl-h2", 4, "firewall/h2", ["raw PREROUTING CN-tl-ZONE", "filter FORWARD CN-tl-FWD", "filter INPUT CN-tl-IN"]],
      ["tl-h2", 6, "firewall/h2", ["raw PREROUTING CN-tl-ZONE", "filter FORWARD CN-tl-FWD", "filter INPUT CN-tl-IN"]],
      ["tl-m1", 4, "firewall/guest.m1", ["nat OUTPUT CN-tl-MESH-OUT", "nat PREROUTING CN-tl-MESH-IN"]],
      ["tl-m1", 6, "firewall/guest.m1", ["nat OUTPUT CN-tl-MESH-OUT", "nat PREROUTING CN-tl-MESH-IN"]],
    ]);
    for (const r of declared.rules) expect(stages.find((s) => s.id === r.stage)!.apply).toContain(r.payload);
  });

  it("the router namespace and its route belong to the gateway host's network stage; no sets or bridge tables without security groups", () => {
    expect(declared.namespaces).toContainEqual({ name: "tl-rt.acme-web.h1", stage: "network/h1" });
    expect(declared.routes).toEqual([{ netns: "tl-h1", to: "10.0.0.0/24", stage: "network/h1" }]);
    expect(declared.ipsets).toEqual([]);
    expect(declared.nftTables).toEqual([]);
  });
});
