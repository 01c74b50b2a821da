// cdktf deploy with this app: "app": "npx ts-node --transpile-only examples/overlay-lab/main.ts".
import { App, TerraformStack } from "cdktf";
import { overlayLab } from "./lab";

const app = new App();
overlayLab(new TerraformStack(app, "overlay"));
app.synth();
