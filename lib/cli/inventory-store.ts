import * as fs from "fs";
import * as path from "path";
import { INVENTORY_DIR, Inventory, InventoryNode } from "../render/inventory";

/** Reads the inventories that deployed emulated labs wrote. */
export class InventoryStore {
  constructor(private readonly dir = INVENTORY_DIR) {}

  labs(): Inventory[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(this.dir, f), "utf8")) as Inventory);
  }

  /** The lab's inventory, or undefined when it is not deployed here. */
  find(name: string): Inventory | undefined {
    return this.labs().find((l) => l.lab === name);
  }

  lab(name: string): Inventory {
    const found = this.labs().find((l) => l.lab === name);
    if (!found) {
      const known = this.labs().map((l) => l.lab);
      throw new Error(`no deployed lab named '${name}'${known.length ? ` (deployed: ${known.join(", ")})` : "; deploy one with `npm run demo`"}.`);
    }
    return found;
  }

  node(labName: string, nodeName: string): InventoryNode {
    const lab = this.lab(labName);
    const node = lab.nodes.find((n) => n.name === nodeName);
    if (!node) throw new Error(`lab '${labName}' has no node '${nodeName}'; its nodes are: ${lab.nodes.map((n) => n.name).join(", ")}.`);
    return node;
  }
}
