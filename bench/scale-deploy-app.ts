/**
 * The lab `npm run bench -- scale` deploys: `<hosts>` emulated hosts with `<guestsPerHost>` guests
 * each, on a nat network and an isolated one of two tenants, every guest in a group open on tcp/80.
 * Synthesizes into `<outdir>` (prefix `bdp`, so a run cleans what an earlier one left).
 */
import { App, TerraformStack } from "cdktf";
import { Lab, NetworkMode, Peer, Port } from "../lib";

export const DEPLOY_PREFIX = "bdp";

export function synthDeployLab(outdir: string, hosts: number, guestsPerHost: number): void {
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "bench");
  const lab = new Lab(stack, "lab", { name: "bench-deploy", prefix: DEPLOY_PREFIX });
  const hs = Array.from({ length: hosts }, (_, i) => lab.addHost(`h${i}`));
  const nets = [
    lab.addTenant("a").addNetwork("web", { cidr: "10.60.0.0/16", mode: NetworkMode.nat() }),
    lab.addTenant("b").addNetwork("app", { cidr: "10.61.0.0/16" }),
  ];
  const web = lab.addSecurityGroup("web");
  web.addIngressRule(Peer.anyIpv4(), Port.tcp(80));
  for (let h = 0; h < hosts; h++) {
    for (let g = 0; g < guestsPerHost; g++) {
      lab.addGuest(`g${h}-${g}`, { host: hs[h], nics: [{ segment: nets[g % 2] }], securityGroups: [web] });
    }
  }
  app.synth();
}
