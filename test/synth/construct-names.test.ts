import { Testing, TerraformStack } from "cdktf";
import { Lab } from "../../lib";

function newLab(): Lab {
  return new Lab(new TerraformStack(Testing.app(), "stack"), "lab");
}

describe("names are construct ids, so a clash is reported at once", () => {
  it("adding a host twice throws immediately, with the lab path and the existing node", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addHost("h1")).toThrow(
      "[stack/lab] host name 'h1' is already used by stack/lab/h1; choose another name.",
    );
  });

  it("a guest named like a host throws immediately", () => {
    const lab = newLab();
    lab.addHost("h1");
    expect(() => lab.addGuest("h1", { host: "h1" })).toThrow("[stack/lab] guest name 'h1' is already used by stack/lab/h1;");
  });

  it("a segment named like a host throws immediately", () => {
    const lab = newLab();
    lab.addHost("blue");
    expect(() => lab.addSegment("blue", { cidr: "10.0.0.0/24" })).toThrow("[stack/lab] segment name 'blue' is already used by stack/lab/blue;");
  });

  // Regression (fixed): lib/constructs/lab.ts:105-107 passes the name straight to `new LabHost(this, name)`; for ''
  // constructs throws its own "Only root constructs may have an empty ID", with no lab path and no
  // fix-it, instead of the lab's "[stack/lab] host name '' is not allowed: ..." validation.
  it("an empty host name is reported with the lab path", () => {
    expect(() => newLab().addHost("")).toThrow(/\[stack\/lab\].*host name ''/);
  });
});
