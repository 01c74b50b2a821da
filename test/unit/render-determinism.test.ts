import { renderLab } from "../../lib/render";
import { hookFor } from "../../lib/targets";
import { demoSpec, resolveOk } from "./support/lab-specs";

describe("determinism", () => {
  it("rendering the same lab twice gives byte-identical stages", () => {
    const a = JSON.stringify(renderLab(resolveOk(demoSpec())));
    const b = JSON.stringify(renderLab(resolveOk(demoSpec())));
    expect(b).toBe(a);
  });

  it("the hooks built from them are byte-identical too", () => {
    const hooks = () => {
      const lab = resolveOk(demoSpec());
      return JSON.stringify(renderLab(lab).map((s) => hookFor(lab, s)));
    };
    expect(hooks()).toBe(hooks());
  });

  it("a change of one guest's address changes only that guest's and the inventory's scripts", () => {
    const before = renderLab(resolveOk(demoSpec()));
    const spec = demoSpec();
    const changed = { ...spec, guests: [{ ...spec.guests[0], nics: [{ segment: "blue", address: "10.10.0.21" }] }, spec.guests[1]] };
    const after = renderLab(resolveOk(changed));
    const differs = after.filter((s, i) => s.apply !== before[i].apply || s.teardown !== before[i].teardown).map((s) => s.id);
    expect(differs).toEqual(["guest/web", "inventory"]);
  });
});
