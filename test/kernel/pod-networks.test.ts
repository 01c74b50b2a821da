import { ChildProcess } from "child_process";
import { PodNetwork, ResolvedLab, formatIssues } from "../../lib/model";
import { birdDir } from "../../lib/render/pods";
import { Deployment, applyAll } from "../support/apply";
import { fullState } from "../support/kernel-state";
import { cleanupPrefix, nsExec, run, tryRun, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";
import { connect, startServer, stopServers } from "../support/tcp";
import { PodBackendName, podLab } from "./fixtures/pod-lab";

/**
 * Pod networks across three emulated nodes, two pods each (fixtures/pod-lab.ts), for each backend:
 * every pod reaches every other by ping and TCP, the largest unfragmented packet passes and one byte
 * more does not leave, each node holds exactly the objects its backend is documented to create, and
 * a second apply changes nothing. Calico: the BGP sessions come up and each node learns exactly the
 * others' blocks; a node announcing someone else's block is not believed; a pod that forges its
 * source is dropped; a node taken out of the network is withdrawn everywhere on the next deploy.
 */
const PORT = 8080;

function resolve(prefix: string, backend: PodBackendName, nodes = 3): ResolvedLab {
  const r = podLab(prefix, backend, nodes).resolve();
  if (!r.lab) throw new Error(formatIssues(r.issues));
  return r.lab;
}

const hostNs = (lab: ResolvedLab, host: string) => lab.hosts.find((h) => h.name === host)!.netns!;
const underlay = (lab: ResolvedLab, host: string) => lab.hosts.find((h) => h.name === host)!.underlay.toString();
const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean).sort();
const birdc = (lab: ResolvedLab, host: string, ...args: string[]) =>
  nsExec(hostNs(lab, host), "birdc", ["-s", `${birdDir(lab, host)}/${lab.prefix}.ctl`, ...args]).stdout;

/** BGP sessions that are Established, per node, polled until `want` of them are (BIRD retries every few seconds). */
function waitForSessions(lab: ResolvedLab, host: string, want: number): number {
  let up = 0;
  for (let i = 0; i < 60; i++) {
    up = birdc(lab, host, "show", "protocols").split("\n").filter((l) => / BGP .* Established/.test(l)).length;
    if (up >= want) return up;
    run("sleep", ["0.5"]);
  }
  return up;
}

/** The routes BIRD put in the kernel, polled until they equal `want` (they follow the sessions). */
function waitForBirdRoutes(lab: ResolvedLab, host: string, want: readonly string[]): string[] {
  let have: string[] = [];
  for (let i = 0; i < 60; i++) {
    have = lines(nsExec(hostNs(lab, host), "ip", ["route", "show", "proto", "bird"]).stdout).map((l) => l.replace(/ metric \d+/, ""));
    if (JSON.stringify(have) === JSON.stringify([...want].sort())) return have;
    run("sleep", ["0.5"]);
  }
  return have;
}

function expectEveryPodReachesEveryOther(net: PodNetwork): void {
  const failures: string[] = [];
  for (const a of net.pods) {
    for (const b of net.pods.filter((x) => x !== a)) {
      if (nsExec(a.netns, "ping", ["-c", "1", "-W", "2", b.address.toString()]).status !== 0) failures.push(`ping ${a.name} -> ${b.name}`);
      // The server answers with its name and the client's address as it saw it: pods meet unNATed.
      const answer = connect(a.netns, b.address.toString(), PORT);
      if (answer !== `${b.name} ${a.address}`) failures.push(`tcp ${a.name} -> ${b.name}: ${answer}`);
    }
  }
  expect(failures).toEqual([]);
}

/** DF pings of the largest size that fits the pods' MTU, then one byte more, across nodes. */
function expectMtu(net: PodNetwork): void {
  const [a, b] = [net.pods[0], net.pods[net.pods.length - 1]];
  const largest = net.mtu - 28;
  const ping = (size: number) => nsExec(a.netns, "ping", ["-c", "1", "-W", "2", "-M", "do", "-s", String(size), b.address.toString()]).status;
  expect({ largest, status: ping(largest) }).toEqual({ largest, status: 0 });
  expect(ping(largest + 1)).not.toBe(0);
  // The pods' MTU is what the backend leaves of the underlay's 1,500.
  expect(nsExec(a.netns, "ip", ["-o", "link", "show", "dev", "eth0"]).stdout).toContain(` mtu ${net.mtu} `);
}

describe.each([
  ["flannel-vxlan", 1450],
  ["flannel-host-gw", 1500],
  ["calico", 1500],
  ["calico-rr", 1500],
] as const)("pod network %s (kernel)", (backend, mtu) => {
  const p = uniquePrefix("k");
  const lab = resolve(p, backend);
  const net = lab.podNetworks[0];
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot();
    applyAll(lab);
    for (const pod of net.pods) servers.push(await startServer(pod.netns, PORT, pod.name));
    if (backend.startsWith("calico")) {
      const reflector = backend === "calico-rr";
      for (const n of net.nodes) waitForSessions(lab, n.host, reflector && n.host !== "h1" ? 1 : 2);
    }
  }, 120_000);
  afterAll(() => {
    stopServers();
    cleanupPrefix(p);
  });

  test(`every pod reaches every other by ping and TCP, at MTU ${mtu}`, () => {
    expect(net.mtu).toBe(mtu);
    expectEveryPodReachesEveryOther(net);
    expectMtu(net);
  });

  test("each node holds exactly the objects its backend creates", () => {
    for (const node of net.nodes) {
      const ns = hostNs(lab, node.host);
      const others = net.nodes.filter((n) => n !== node);
      const routes = lines(nsExec(ns, "ip", ["route", "show"]).stdout);
      if (backend === "flannel-vxlan") {
        const vtep = node.vtep!;
        const link = nsExec(ns, "ip", ["-o", "-d", "link", "show", "dev", vtep.dev]).stdout;
        expect(link).toMatch(new RegExp(` mtu 1450 .*vxlan id 1 local ${underlay(lab, node.host)} dev eth0 .*dstport 8472 nolearning`));
        expect(nsExec(ns, "ip", ["-o", "addr", "show", "dev", vtep.dev]).stdout).toContain(`inet ${vtep.address}/32`);
        expect(lines(nsExec(ns, "ip", ["neigh", "show", "dev", vtep.dev, "nud", "permanent"]).stdout))
          .toEqual(lines(others.map((o) => `${o.vtep!.address} lladdr ${o.vtep!.mac} PERMANENT`).join("\n")));
        expect(lines(nsExec(ns, "bridge", ["fdb", "show", "dev", vtep.dev]).stdout).filter((l) => l.includes(" dst ")))
          .toEqual(lines(others.map((o) => `${o.vtep!.mac} dst ${underlay(lab, o.host)} self permanent`).join("\n")));
        expect(routes.filter((r) => r.includes(`dev ${vtep.dev}`)))
          .toEqual(lines(others.map((o) => `${o.subnet} via ${o.vtep!.address} dev ${vtep.dev} onlink`).join("\n")));
      } else if (backend === "flannel-host-gw") {
        expect(routes.filter((r) => r.includes(" via ")))
          .toEqual(lines(others.map((o) => `${o.subnet} via ${underlay(lab, o.host)} dev eth0`).join("\n")));
      } else {
        // No bridge: each pod is a /32 routed to its veth, which answers ARP for the gateway.
        expect(nsExec(ns, "ip", ["-o", "link", "show", "type", "bridge"]).stdout).toBe("");
        for (const pod of net.pods.filter((x) => x.node === node.host)) {
          expect(routes).toContain(`${pod.address} dev ${pod.hostDev} scope link`);
          expect(nsExec(ns, "sysctl", ["-n", `net.ipv4.conf.${pod.hostDev}.proxy_arp`]).stdout.trim()).toBe("1");
        }
      }
      if (node.bridge) {
        expect(nsExec(ns, "ip", ["-o", "addr", "show", "dev", node.bridge]).stdout).toContain(`inet ${node.gateway}/${node.subnet.prefixLength}`);
      }
    }
  });

  if (backend.startsWith("calico")) {
    test("the BGP sessions come up and each node learns exactly the other nodes' blocks", () => {
      const reflector = backend === "calico-rr";
      for (const node of net.nodes) {
        const want = reflector && node.host !== "h1" ? 1 : 2;
        expect({ node: node.host, established: waitForSessions(lab, node.host, want) }).toEqual({ node: node.host, established: want });
        const expected = [
          `blackhole ${node.subnet}`,
          ...net.nodes.filter((n) => n !== node).map((o) => `${o.subnet} via ${underlay(lab, o.host)} dev eth0`),
        ];
        expect(waitForBirdRoutes(lab, node.host, expected)).toEqual([...expected].sort());
      }
    }, 60_000);

    test("a node announcing another node's block or a default route is not believed", () => {
      // h2's BIRD, as an attacker on h2 would reconfigure it: h3's block and a default route besides its own.
      const dir = birdDir(lab, "h2");
      const conf = `${dir}/${lab.prefix}.conf`;
      const original = run("cat", [conf]);
      const h3 = net.nodes.find((n) => n.host === "h3")!.subnet.toString();
      const forged = original.replace(/route (\S+) blackhole;/, `route $1 blackhole; route ${h3} blackhole; route 0.0.0.0/0 blackhole;`);
      expect(forged).not.toBe(original);
      run("ip", ["netns", "exec", hostNs(lab, "h2"), "bash", "-c", `cat > ${conf}`], forged);
      try {
        expect(birdc(lab, "h2", "configure")).toMatch(/Reconfigured/);
        // h2 does announce them (the positive control: its own block keeps arriving over the same session).
        expect(birdc(lab, "h2", "show", "route", "export", "n_h1")).toContain(h3);
        const h1 = hostNs(lab, "h1");
        run("sleep", ["2"]);
        const routes = nsExec(h1, "ip", ["route", "show", "proto", "bird"]).stdout;
        expect(routes).toContain(`${net.nodes.find((n) => n.host === "h2")!.subnet} via ${underlay(lab, "h2")}`);
        expect(routes).toContain(`${h3} via ${underlay(lab, "h3")}`);
        expect(routes).not.toContain("default");
        expect(routes).not.toContain(`${h3} via ${underlay(lab, "h2")}`);
      } finally {
        run("ip", ["netns", "exec", hostNs(lab, "h2"), "bash", "-c", `cat > ${conf}`], original);
        birdc(lab, "h2", "configure");
      }
    }, 30_000);

      test("a pod that forges its source address is dropped at its node", () => {
      const [attacker, victim] = net.pods.filter((x) => x.node === "h1");
      const target = net.pods.find((x) => x.node === "h2")!;
      // Echo requests the target's kernel took in (its replies to a forged source go to the victim, so
      // what counts is what arrives).
      const arrived = () => {
        const [names, values] = nsExec(target.netns, "cat", ["/proc/net/snmp"]).stdout.split("\n").filter((l) => l.startsWith("Icmp:")).map((l) => l.split(/\s+/));
        return Number(values[names.indexOf("InEchos")]);
      };
      // The attacker owns its namespace: it takes its neighbour's address as well.
      run("ip", ["-n", attacker.netns, "addr", "add", `${victim.address}/32`, "dev", "eth0"]);
      try {
        const send = (src: string) => {
          const before = arrived();
          nsExec(attacker.netns, "ping", ["-c", "5", "-i", "0.1", "-W", "1", "-I", src, target.address.toString()]);
          return arrived() - before;
        };
        expect({ own: send(attacker.address.toString()), forged: send(victim.address.toString()) }).toEqual({ own: 5, forged: 0 });
      } finally {
        tryRun("ip", ["-n", attacker.netns, "addr", "del", `${victim.address}/32`, "dev", "eth0"]);
      }
    });
  }

  test("a second apply changes nothing", () => {
    const namespaces = [...lab.hosts.map((h) => h.netns!), ...net.pods.map((x) => x.netns)];
    const before = fullState(namespaces);
    applyAll(lab);
    expect(fullState(namespaces)).toBe(before);
  }, 60_000);
});

describe("Calico: a node taken out of the network (kernel)", () => {
  const p = uniquePrefix("k");
  const deployment = new Deployment();
  afterAll(() => cleanupPrefix(p));

  test("is withdrawn from the others' routes and stops its BGP speaker on the next deploy", () => {
    requireRoot();
    const three = resolve(p, "calico", 3);
    deployment.deploy(three);
    const block = (lab: ResolvedLab, host: string) => lab.podNetworks[0].nodes.find((n) => n.host === host)!.subnet.toString();
    const h3Block = block(three, "h3");
    for (const h of ["h1", "h2"]) waitForSessions(three, h, 2);
    // The positive control: h3's block is learned while h3 is a node.
    expect(waitForBirdRoutes(three, "h1", [`blackhole ${block(three, "h1")}`, `${block(three, "h2")} via ${underlay(three, "h2")} dev eth0`, `${h3Block} via ${underlay(three, "h3")} dev eth0`]))
      .toContain(`${h3Block} via ${underlay(three, "h3")} dev eth0`);
    const two = resolve(p, "calico", 2);
    deployment.deploy(two);
    for (const h of ["h1", "h2"]) {
      const other = h === "h1" ? "h2" : "h1";
      const want = [`blackhole ${block(two, h)}`, `${block(two, other)} via ${underlay(two, other)} dev eth0`];
      expect(waitForBirdRoutes(two, h, want)).toEqual([...want].sort());
    }
    const h3 = hostNs(two, "h3");
    expect(nsExec(h3, "ip", ["route", "show", "proto", "bird"]).stdout).toBe("");
    expect(tryRun("pgrep", ["-a", "bird"]).stdout.split("\n").filter((l) => l.includes(`${birdDir(two, "h3")}/`))).toEqual([]);
    deployment.destroy();
    expect(tryRun("pgrep", ["-a", "bird"]).stdout.split("\n").filter((l) => l.includes(`/run/cloudnet/bird/${p}-`))).toEqual([]);
  }, 120_000);
});
