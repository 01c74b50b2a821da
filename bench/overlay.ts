/**
 * `npm run bench -- overlay`: Open vSwitch overlay clusters.
 * - flows per host, rendered, for 4, 16 and 64 hosts × 10 tenants (a network per tenant on every
 *   host, a guest of each on each host; L2 population on);
 * - applying one host's tunnel-bridge flows of the 64-host lab to a running switch: one bundle (what
 *   the lab does) against one `ovs-ofctl add-flow` per flow, both from an empty table;
 * - TCP throughput guest to guest across two hosts over OVS userspace VXLAN, next to the Linux-bridge
 *   VXLAN path, in the same run (iperf3, a figure to report).
 * Needs root (namespaces). Wall-clock medians of RUNS (default 3).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabSpec, ResolvedLab } from "../lib/model";
import { Stage, renderLab } from "../lib/render";
import { integrationFlows, tunnelFlows } from "../lib/render/ovs-flows";
import { runStage } from "../test/support/apply";
import { cleanupPrefix, uniquePrefix } from "../test/support/netns";
import { median, resolved, seconds } from "./support/measure";

const HOSTS = [4, 16, 64];
const TENANTS = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function spec(name: string, hosts: number, cluster: boolean): LabSpec {
  const hostNames = Array.from({ length: hosts }, (_, i) => `h${i + 1}`);
  return {
    name, path: "lab", backend: { kind: "emulated", fabricCidr: "198.18.0.0/24" },
    hosts: hostNames.map((h) => ({ name: h, path: `lab/${h}` })),
    clusters: cluster ? [{ name: "sdn", path: "lab/sdn", hosts: hostNames }] : [],
    segments: Array.from({ length: TENANTS }, (_, t) => ({ name: `t${t}-app`, tenant: `t${t}`, path: `lab/t${t}`, cidr: "10.0.0.0/24", cluster: cluster ? "sdn" : undefined })),
    guests: hostNames.flatMap((h, i) => Array.from({ length: TENANTS }, (_, t) => ({
      name: `g${t}x${i}`, path: `lab/g${t}x${i}`, host: h, compute: { kind: "namespace" as const },
      nics: [{ segment: `t${t}-app`, address: `10.0.0.${i + 2}` }],
    }))),
  };
}


function must(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function apply(lab: ResolvedLab, stages: readonly Stage[], ids: (id: string) => boolean): void {
  for (const s of stages.filter((x) => ids(x.id))) {
    const r = runStage(lab, s, "apply");
    if (r.status !== 0) throw new Error(`apply of ${s.id} failed:\n${r.output}`);
  }
}

/** Flows of one host's bridges, as rendered. */
function flowsPerHost(hosts: number): number {
  const lab = resolved(spec(uniquePrefix("b"), hosts, true));
  const cluster = lab.clusters[0];
  return tunnelFlows(lab, cluster, lab.hosts[0]).length + integrationFlows(lab, cluster, lab.hosts[0]).length;
}

/** h1 of the 64-host lab on a real switch: its tunnel bridge's flows by one bundle and one by one. */
function applyTimes(): { flows: number; bundle_s: number; per_flow_s: number } {
  const prefix = uniquePrefix("b");
  const lab = resolved(spec(prefix, 64, true));
  try {
    apply(lab, renderLab(lab), (id) => ["helpers", "fabric", "host/h1", "owner/h1", "network/h1"].includes(id));
    const h1 = lab.hosts[0];
    const cluster = lab.clusters[0];
    const target = `unix:${h1.ovsRunDir}/${cluster.tunnelBridge}.mgmt`;
    const flows = tunnelFlows(lab, cluster, h1);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-flows-")), "flows");
    fs.writeFileSync(file, flows.join("\n") + "\n");
    // The switch's management socket is a file: ovs-ofctl reaches it from here, no namespace to enter.
    const ofctl = (...args: string[]) => must("ovs-ofctl", ["-O", "OpenFlow14", ...args]);
    const count = () => ofctl("dump-flows", target).split("\n").filter((l) => l.includes("cookie=")).length;
    const bundle: number[] = [];
    const perFlow: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      ofctl("del-flows", target);
      bundle.push(seconds(() => ofctl("--bundle", "add-flows", target, file)));
      if (count() !== flows.length) throw new Error(`the bundle left ${count()} flows, not ${flows.length}`);
      ofctl("del-flows", target);
      perFlow.push(seconds(() => { for (const f of flows) ofctl("add-flow", target, f); }));
      if (count() !== flows.length) throw new Error(`one by one left ${count()} flows, not ${flows.length}`);
    }
    return { flows: flows.length, bundle_s: median(bundle), per_flow_s: median(perFlow) };
  } finally {
    cleanupPrefix(prefix);
  }
}

/** iperf3 from the first tenant's guest on h1 to its guest on h2, on a two-host lab of each kind. */
function throughput(cluster: boolean): number {
  const prefix = uniquePrefix("b");
  const lab = resolved(spec(prefix, 2, cluster));
  try {
    apply(lab, renderLab(lab), () => true);
    const [from, to] = [lab.guests.find((g) => g.name === "g0x0")!, lab.guests.find((g) => g.name === "g0x1")!];
    const server = spawnSync("ip", ["netns", "exec", to.netns!, "iperf3", "-s", "-D", "-1"], { encoding: "utf8" });
    if (server.status !== 0) throw new Error(`iperf3 -s: ${server.stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const out = JSON.parse(must("ip", ["netns", "exec", from.netns!, "iperf3", "-c", to.nics[0].address.toString(), "-t", "3", "-J"]));
    return out.end.sum_received.bits_per_second / 1e6;
  } finally {
    cleanupPrefix(prefix);
  }
}

export function main(): void {
  const perHost: Record<string, number> = {};
  for (const h of HOSTS) perHost[h] = flowsPerHost(h);
  console.log(`overlay: flows per host, rendered (${TENANTS} tenants, a guest of each on every host, L2 population on)`);
  console.log("hosts   flows per host");
  for (const h of HOSTS) console.log(`${String(h).padStart(5)}   ${String(perHost[h]).padStart(14)}`);
  const applied = applyTimes();
  console.log(`\napplying h1's tunnel-bridge flows of the 64-host lab (${applied.flows} flows, medians of ${RUNS})`);
  console.log(`one bundle                ${applied.bundle_s.toFixed(3)} s`);
  console.log(`one add-flow per flow     ${applied.per_flow_s.toFixed(3)} s   (${(applied.per_flow_s / applied.bundle_s).toFixed(1)}x the bundle)`);
  const ovs = throughput(true);
  const linux = throughput(false);
  console.log("\nTCP guest to guest across two hosts (iperf3, 3 s)");
  console.log(`OVS userspace VXLAN       ${ovs.toFixed(0)} Mbit/s`);
  console.log(`Linux bridge + VXLAN      ${linux.toFixed(0)} Mbit/s`);
  console.log(JSON.stringify({
    bench: "overlay", runs: RUNS, flows_per_host: perHost,
    apply: applied, bundle_speedup_vs_per_flow: applied.per_flow_s / applied.bundle_s,
    tcp_mbit_s: { ovs_userspace_vxlan: ovs, linux_bridge_vxlan: linux },
  }));
}
