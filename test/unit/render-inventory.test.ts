import { INVENTORY_DIR, inventoryOf, renderInventory } from "../../lib/render";
import { demoSpec, resolveOk } from "./support/lab-specs";
import { runBash } from "./support/bash";

describe("inventory", () => {
  const lab = resolveOk(demoSpec());

  it("lists hosts with their fabric address and guests with their host and addresses", () => {
    expect(inventoryOf(lab)).toEqual({
      lab: "demo",
      prefix: "demo",
      nodes: [
        { name: "h1", kind: "host", netns: "demo-h1", addresses: ["198.18.0.1/24"] },
        { name: "h2", kind: "host", netns: "demo-h2", addresses: ["198.18.0.2/24"] },
        { name: "web", kind: "guest", netns: "demo-web", host: "h1", addresses: ["10.10.0.11/24"] },
        { name: "db", kind: "guest", netns: "demo-db", host: "h2", addresses: ["10.10.0.12/24"] },
      ],
    });
  });

  it("writes the JSON through a quoted heredoc into a temporary file, then renames it", () => {
    const apply = renderInventory(lab, []).apply;
    const file = `${INVENTORY_DIR}/demo.json`;
    expect(apply).toContain(`cat > ${file}.tmp <<'CLOUDNET_EOF'\n${JSON.stringify(inventoryOf(lab), null, 2)}\nCLOUDNET_EOF`);
    expect(apply.indexOf(`mv -f ${file}.tmp ${file}`)).toBeGreaterThan(apply.indexOf("CLOUDNET_EOF\n"));
  });

  it("the heredoc gives back exactly the inventory JSON when run", () => {
    const apply = renderInventory(lab, []).apply;
    const heredocPart = apply.slice(apply.indexOf("cat > "), apply.indexOf("\nmv -f"));
    const r = runBash(heredocPart.replace(/^cat > \S+/, "cat"));
    expect(JSON.parse(r.stdout)).toEqual(inventoryOf(lab));
  });
});
