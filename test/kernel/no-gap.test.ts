import { Deployment } from "../support/apply";
import { cleanupPrefix, nsExec, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startEchoServer, startServer, stopServers } from "../support/tcp";
import { flood, stream, watch } from "../support/traffic";
import { ConvergeVariant, convergeLab } from "./fixtures/converge-lab";

/**
 * No gap through changes. While a prober opens new connections to a forbidden pair at well over
 * 1,000 per second, a stream runs between an allowed pair and a client keeps calling the service
 * VIP, the lab is redeployed through the changes that used to open gaps or lose state (IPv6 added
 * to the gateway host, a host added to the network, a floating IP, a rule change each way, a second
 * service) and back: nothing forbidden gets through, the stream loses no byte, the VIP never fails.
 */
const p = uniquePrefix("w");
const ns = (node: string) => `${p}-${node}`;

const base: ConvergeVariant = {
  guests: { g1: "h1", g2: "h2", g3: "h2" }, gateway: "h1",
  webGroup: ["g2", "g3"], webPorts: [7000], service: ["g2", "g3"],
};
const steps: Array<[string, ConvergeVariant]> = [
  ["IPv6 added to the network (and its gateway host)", { ...base, ipv6: true }],
  ["a host added to the network", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" } }],
  ["a floating IP added", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" }, floating: "g1" }],
  ["a rule added (permissive)", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" }, floating: "g1", webPorts: [7000, 8443] }],
  ["a service added", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" }, floating: "g1", webPorts: [7000, 8443], service2: ["g3"] }],
  ["the service removed", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" }, floating: "g1", webPorts: [7000, 8443] }],
  ["the rule removed (restrictive)", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" }, floating: "g1" }],
  ["the floating IP removed", { ...base, ipv6: true, guests: { ...base.guests, g4: "h3" } }],
  ["the host removed from the network", { ...base, ipv6: true }],
  ["IPv6 removed", base],
];

describe("no gap through changes (kernel)", () => {
  const d = new Deployment();
  beforeAll(async () => {
    requireRoot();
    d.deploy(convergeLab(p, base));
    for (const g of ["g2", "g3"]) await startServer(ns(g), 8080, g);
    await startServer(ns("g3"), 9000, "g3-9000");
    await startEchoServer(ns("g2"), 7000);
  }, 120_000);
  afterAll(() => {
    stopServers();
    try { d.destroy(); } finally { cleanupPrefix(p); }
  });

  test("forbidden stays forbidden, the allowed stream loses nothing, the VIP answers throughout", async () => {
    // Positive controls: the forbidden listener answers locally, the allowed ones across the lab.
    expect(connect(ns("g3"), "10.0.0.13", 9000)).toBe("g3-9000 10.0.0.13");
    expect(connect(ns("g1"), "10.0.0.13", 9000, { timeoutMs: 800 })).toBe("fail");
    expect(connect(ns("g1"), "10.96.0.10", 80)).toMatch(/^g[23] /);

    const prober = await flood(ns("g1"), "10.0.0.13", 9000);
    const flow = await stream(ns("g1"), "10.0.0.12", 7000);
    const vip = await watch(ns("g1"), "10.96.0.10", 80);
    const applied: string[] = [];
    for (const [what, v] of steps) {
      d.deploy(convergeLab(p, v));
      applied.push(`${what}: ${d.applied.join(" ")}`);
    }
    // A moment of traffic after the last deploy, too.
    await new Promise((r) => setTimeout(r, 500));
    const [probed, streamed, watched] = await Promise.all([prober.stop(), flow.stop(), vip.stop()]);
    console.log(["applied per change:", ...applied, `prober ${JSON.stringify(probed)}`, `stream ${JSON.stringify(streamed)}`, `vip ${JSON.stringify(watched)}`].join("\n"));

    expect(probed.passed).toBe(0);
    expect(probed.rate).toBeGreaterThanOrEqual(1000);
    expect(streamed).toEqual(expect.objectContaining({ broken: false, received: streamed.sent }));
    expect(streamed.sent).toBeGreaterThan(100_000);
    expect(watched.failed).toBe(0);
    expect(watched.ok).toBeGreaterThan(10);
    // The prober was not simply unable to connect anywhere: the same client still reaches an allowed port.
    expect(connect(ns("g1"), "10.0.0.13", 8080)).toBe("g3 10.0.0.11");
    expect(nsExec(ns("g1"), "ping", ["-c", "1", "-W", "1", "10.0.0.1"]).status).toBe(0);
  }, 300_000);

  test("control: the prober does see a gap when there is one", async () => {
    const chain = `CN-${p}-I-g3-0`;
    const prober = await flood(ns("g1"), "10.0.0.13", 9000);
    await new Promise((r) => setTimeout(r, 300));
    const passedSoFar = () => Number(/passed (\d+)\n$/.exec(prober.progress())?.[1] ?? 0);
    const before = passedSoFar();
    nsExec(ns("h2"), "iptables", ["-I", chain, "1", "-j", "ACCEPT"]);
    // The hole stays open until more than 10 connections got through (15 s at most): how many a
    // second of hole lets through depends on the machine's load (31 quiet, 4 in two seconds on a
    // loaded CI run), while the deploys above let through none at all.
    const opened = Date.now();
    while (passedSoFar() <= 10 && Date.now() - opened < 15_000) await new Promise((r) => setTimeout(r, 50));
    const holeMs = Date.now() - opened;
    nsExec(ns("h2"), "iptables", ["-D", chain, "1"]);
    await new Promise((r) => setTimeout(r, 300));
    const probed = await prober.stop();
    console.log(`control prober ${JSON.stringify({ ...probed, holeMs })}`);
    expect(before).toBe(0);
    expect(probed.passed).toBeGreaterThan(10);
  }, 60_000);
});
