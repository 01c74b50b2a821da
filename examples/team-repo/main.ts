import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Lab } from "cdktf-cloudnet";
import { WebTier } from "./lib/web-tier";

/** The team's lab: two emulated hosts and the WebTier across them. `prefix` keeps its kernel objects apart. */
export class ShopStack extends TerraformStack {
  readonly lab: Lab;
  constructor(scope: Construct, id: string, prefix = "team") {
    super(scope, id);
    this.lab = new Lab(this, "lab", { name: "shop", prefix });
    const hosts = [this.lab.addHost("h1"), this.lab.addHost("h2")];
    new WebTier(this, "WebTier", { lab: this.lab, tenant: this.lab.addTenant("shop"), hosts, cidr: "10.40.0.0/24" });
  }
}

if (require.main === module) {
  const app = new App();
  new ShopStack(app, "shop", process.env.LAB_PREFIX);
  app.synth();
}
