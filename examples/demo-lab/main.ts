import { App, TerraformStack } from "cdktf";
import { demoLab } from "./lab";

const app = new App();
const stack = new TerraformStack(app, "demo");
demoLab(stack);
app.synth();
