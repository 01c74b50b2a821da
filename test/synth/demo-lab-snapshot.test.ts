import { Testing } from "cdktf";
import { demoLab } from "../../examples/demo-lab/lab";

// A snapshot shows what was rendered; the targeted asserts in demo-lab-hooks.test.ts say why it is right.
describe("demo lab snapshot", () => {
  it("matches the reviewed Terraform JSON", () => {
    expect(Testing.synthScope((s) => { demoLab(s); })).toMatchSnapshot();
  });
});
