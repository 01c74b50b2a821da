import { spawnSync } from "child_process";
import { Command, InvalidArgumentError } from "commander";
import { runCdktf } from "./deploy";
import { PLATFORM_CLI } from "./platform";
import { flowsReport } from "./flows";
import { InventoryStore } from "./inventory-store";
import { qosEntries, qosReport, readCounters } from "./qos";
import { TraceOptions, traceReport } from "./trace";
import { repairAdvice, verifyLab } from "./verify";

/**
 * `cloudnet deploy|destroy [dir]` (cdktf with one line per stage), and `cloudnet list [lab]`,
 * `cloudnet exec <lab> <node> -- <command...>`, `cloudnet verify <lab>`, and for overlay clusters
 * `cloudnet flows <lab> <host>` and `cloudnet trace <lab> <from> <to>`, and `cloudnet qos <lab>
 * <node>`, for deployed emulated labs.
 * Deploy and destroy resolve asynchronously; the other commands return at once.
 */
export function main(argv: readonly string[], store = new InventoryStore()): number | Promise<number> {
  const program = new Command("cloudnet")
    .description("Deploy cloudnet labs with a readable log, and explore emulated labs deployed on this machine.")
    .exitOverride()
    .showHelpAfterError();
  let status = 0;
  let pending: Promise<number> | undefined;

  for (const verb of ["deploy", "destroy"] as const) {
    program.command(verb)
      .argument("[dir]", `the ${PLATFORM_CLI} project (where cdktf.json is)`, ".")
      .argument(`[${PLATFORM_CLI}-args...]`, `more arguments for ${PLATFORM_CLI}, after --`)
      .description(`${PLATFORM_CLI} ${verb} --auto-approve, printing one line per stage and a summary; the full log goes to <dir>/.cloudnet/logs`)
      .action((dir: string, args: string[]) => {
        pending = runCdktf(verb, { dir, args });
      });
  }

  program.command("list")
    .argument("[lab]", "lab name; without it, every deployed lab")
    .description("list a lab's hosts and guests with their namespaces and addresses")
    .action((labName?: string) => {
      const labs = labName ? [store.lab(labName)] : store.labs();
      if (labs.length === 0) console.log("No emulated lab is deployed. Deploy the demo with `npm run demo`.");
      for (const lab of labs) {
        console.log(`lab ${lab.lab} (prefix ${lab.prefix})`);
        const rows = lab.nodes.map((n) => [n.name, n.kind, n.host ?? "-", n.netns, n.addresses.join(" ")]);
        printTable([["NODE", "KIND", "ON HOST", "NETNS", "ADDRESSES"], ...rows]);
      }
    });

  program.command("exec")
    .argument("<lab>", "lab name")
    .argument("<node>", "host or guest name")
    .argument("<command...>", "command to run inside the node, after --")
    .description("run a command inside a host or guest, e.g. cloudnet exec demo web -- ping -c1 10.10.0.12")
    .action((labName: string, nodeName: string, command: string[]) => {
      const node = store.node(labName, nodeName);
      // No shell: the command's words go to the kernel as they are.
      const r = spawnSync("ip", ["netns", "exec", node.netns, ...command], { stdio: "inherit" });
      status = r.status ?? 1;
    });

  program.command("verify")
    .argument("<lab>", "lab name")
    .description("compare a deployed emulated lab with what it rendered; exits 1 on drift, 2 if the lab is not deployed")
    .action((labName: string) => {
      const lab = store.find(labName);
      if (!lab) {
        console.log(`lab ${labName} is not deployed on this machine: /run/cloudnet holds no inventory for it.`);
        console.log(`If Terraform still has it (after a reboot /run is empty and every namespace is gone), rebuild it with: ${PLATFORM_CLI} destroy && ${PLATFORM_CLI} deploy`);
        status = 2;
        return;
      }
      const drift = verifyLab(lab);
      if (drift.length === 0) {
        console.log(`lab ${lab.lab}: in sync (${lab.declared?.stages.length ?? 0} stages checked)`);
        return;
      }
      console.log(`lab ${lab.lab}: ${drift.length} difference${drift.length === 1 ? "" : "s"}`);
      for (const x of drift) console.log(`  ${x.kind.padEnd(7)} ${x.what}${x.stage ? `  [${x.stage}]` : ""}`);
      for (const line of repairAdvice(lab, drift)) console.log(line);
      status = 1;
    });

  program.command("flows")
    .argument("<lab>", "lab name")
    .argument("<host>", "a host of one of the lab's overlay clusters")
    .option("--stats", "show each flow's packet counter")
    .description("print the lab's Open vSwitch flows on a host, table by table, each table with what it does")
    .action((labName: string, host: string, options: { stats?: boolean }) => {
      for (const line of flowsReport(store.lab(labName), host, { stats: options.stats ?? false })) console.log(line);
    });

  program.command("trace")
    .argument("<lab>", "lab name")
    .argument("<from>", "a guest (or router.<network>) on a network of an overlay cluster")
    .argument("<to>", "a guest or router of the same network, or any IPv4 address (beyond the network: through its router)")
    .option("--tcp <port>", "trace a TCP SYN to this port (default: an ICMP echo request)", portNumber)
    .option("--udp <port>", "trace a UDP datagram to this port", portNumber)
    .description("follow a packet through the Open vSwitch tables with ofproto/trace, on the source's host and, across a tunnel, on the destination's")
    .action((labName: string, from: string, to: string, options: TraceOptions) => {
      if (options.tcp !== undefined && options.udp !== undefined) throw new Error("give --tcp or --udp, not both.");
      for (const line of traceReport(store.lab(labName), from, to, options)) console.log(line);
    });

  program.command("qos")
    .argument("<lab>", "lab name")
    .argument("<node>", "a host (every device the lab shapes on it) or a guest (its NICs)")
    .option("--interval <seconds>", "seconds between the two readings the live rates come from", seconds, 1)
    .option("--watch", "refresh until interrupted")
    .description("show each QoS class with its configured rate and ceil, and its live rate, drops and borrowing (from tc -s)")
    .action((labName: string, node: string, options: { interval: number; watch?: boolean }) => {
      const lab = store.lab(labName);
      const entries = qosEntries(lab, node);
      const netnsOf = (host: string) => store.node(labName, host).netns;
      do {
        const before = readCounters(netnsOf, entries);
        sleep(options.interval);
        const lines = qosReport(lab, entries, before, readCounters(netnsOf, entries), options.interval);
        // On a terminal, each refresh replaces the last.
        if (options.watch && process.stdout.isTTY) process.stdout.write("\x1b[H\x1b[2J");
        for (const line of lines) console.log(line);
      } while (options.watch);
    });

  try {
    program.parse(argv as string[], { from: "user" });
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === "commander.helpDisplayed" || err.code === "commander.help" || err.code === "commander.version") return 0;
    if (err.code?.startsWith("commander.")) return err.exitCode ?? 1;
    console.error(`cloudnet: ${err.message}`);
    return 1;
  }
  return pending ?? status;
}

function seconds(text: string): number {
  const n = Number(text);
  if (!(n >= 0.1 && n <= 3600)) throw new InvalidArgumentError(`'${text}' is not a number of seconds from 0.1 to 3600.`);
  return n;
}

/** Blocks for `s` seconds (the CLI has nothing else to do meanwhile). */
function sleep(s: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, s * 1000);
}

function portNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new InvalidArgumentError(`'${text}' is not a port (1-65535).`);
  return n;
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}
