// End to end on three "machines" over SSH: each an sshd in a network namespace of its own (its own
// links and firewall) with a /run of its own (so its namespaces and state are its own too), joined
// by a switch namespace. `cdktf deploy` builds a nat network with its router on m1, an isolated
// network across all three, namespace guests, security groups and a service; packets prove each
// part; a second deploy plans "No changes"; destroy leaves each machine as it found it.
import * as fs from "fs";
import * as path from "path";
import { randomInt } from "crypto";
import { CdktfProject } from "../support/cdktf";
import { fullState } from "../support/kernel-state";
import { cleanupPrefix, isRoot, listNetns, run, tryRun, uniquePrefix } from "../support/netns";
import { Sshd, startSshd, stopSshd } from "../support/sshd";
import { NetnsRef, connect, connectMany, startServer, stopServers } from "../support/tcp";
import { HELPER_LIBRARY_NAME } from "../../lib/render";

const TIMEOUT = 600_000;
const SSH_PORT = 2222;
const MACHINES = ["m1", "m2", "m3"] as const;
type Machine = (typeof MACHINES)[number];

/** A /24 of 198.19.0.0/16 (RFC 2544) that no address of the test machine is in. */
function freeSubnet(): string {
  const used = run("ip", ["-4", "-o", "addr", "show"]);
  for (let i = 0; i < 50; i++) {
    const third = randomInt(0, 256);
    if (!used.includes(` 198.19.${third}.`)) return `198.19.${third}`;
  }
  throw new Error("no free /24 in 198.19.0.0/16");
}

if (!isRoot()) {
  describe("three machines over SSH (e2e)", () => {
    test("requires root", () => {
      throw new Error("test/e2e/three-machines.test.ts must run as root: it creates namespaces, sshds and a user. Run e.g. `sudo npx jest --selectProjects e2e -t 'three machines'`.");
    });
  });
} else {
  describe("three machines over SSH (e2e)", () => {
    const p = uniquePrefix("m");
    const net = freeSubnet();
    const sw = `${p}-sw`;
    const ns = (m: Machine) => `${p}-${m}`;
    const address = (m: Machine) => `${net}.${11 + MACHINES.indexOf(m)}`;
    /** Where the nat network leads: an address of the switch, beyond every machine's uplink. */
    const outside = `${net}.254`;
    const user = `${p}u`;
    const sudoers = `/etc/sudoers.d/cloudnet-${p}`;
    const sshds = new Map<Machine, Sshd>();
    const guestOn: Record<string, Machine> = { client: "m1", api1: "m2", api2: "m3", outsider: "m3" };
    /** A guest's namespace, inside its machine's own /run. */
    const guest = (g: string): NetnsRef => ({ netns: `${p}-g.${g}`, mountOf: sshds.get(guestOn[g])!.process.pid! });
    /** A command inside a machine: its network namespace and its own /run. */
    const onMachine = (m: Machine, cmd: string, ...args: string[]) =>
      tryRun("nsenter", ["-t", String(sshds.get(m)!.process.pid), "-m", "-n", cmd, ...args]);
    const before = new Map<Machine, string>();
    let project: CdktfProject | undefined;
    const logs = () => [...sshds.entries()].map(([m, s]) => `--- sshd ${m} ---\n${s.log()}`).join("\n");

    beforeAll(async () => {
      run("ip", ["netns", "add", sw]);
      const inSw = (...args: string[]) => run("ip", ["-n", sw, ...args]);
      inSw("link", "set", "lo", "up");
      inSw("link", "add", "br0", "type", "bridge");
      inSw("addr", "add", `${outside}/24`, "dev", "br0");
      inSw("link", "set", "br0", "up");
      // The test machine (where Terraform runs) reaches the sshds through the switch too.
      run("ip", ["link", "add", `${p}r`, "type", "veth", "peer", "name", "port0", "netns", sw]);
      run("ip", ["addr", "add", `${net}.1/24`, "dev", `${p}r`]);
      run("ip", ["link", "set", `${p}r`, "up"]);
      inSw("link", "set", "port0", "master", "br0", "up");
      for (const [i, m] of MACHINES.entries()) {
        run("ip", ["netns", "add", ns(m)]);
        run("ip", ["-n", ns(m), "link", "set", "lo", "up"]);
        run("ip", ["-n", ns(m), "link", "add", "eth0", "type", "veth", "peer", "name", `port${i + 1}`, "netns", sw]);
        run("ip", ["-n", ns(m), "addr", "add", `${address(m)}/24`, "dev", "eth0"]);
        run("ip", ["-n", ns(m), "link", "set", "eth0", "up"]);
        inSw("link", "set", `port${i + 1}`, "master", "br0", "up");
        // What a machine holds before the lab: another tool's chain and rules, a bridge with an address.
        const inM = (...args: string[]) => run("ip", ["netns", "exec", ns(m), ...args]);
        inM("iptables", "-N", "FOREIGN");
        inM("iptables", "-A", "FOREIGN", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT");
        inM("iptables", "-A", "FORWARD", "-j", "FOREIGN");
        inM("iptables", "-A", "INPUT", "-p", "tcp", "--dport", String(SSH_PORT), "-j", "ACCEPT");
        inM("ip", "link", "add", "docker0", "type", "bridge");
        inM("ip", "addr", "add", "172.17.0.1/16", "dev", "docker0");
        sshds.set(m, await startSshd(ns(m), address(m), SSH_PORT, { privateRun: true }));
      }
      // m3 is reached as an ordinary user who may become root through sudo, as on a managed host.
      run("useradd", ["--no-create-home", "--shell", "/bin/bash", "--password", "*", user]);
      fs.writeFileSync(sudoers, `${user} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
      // Snapshot once the link-local addresses have passed duplicate detection (no longer "tentative").
      for (const m of MACHINES) {
        for (let i = 0; i < 100 && run("ip", ["-n", ns(m), "-6", "addr", "show", "tentative"]).trim() !== ""; i++) await new Promise((r) => setTimeout(r, 100));
        before.set(m, fullState([ns(m)]));
      }
      project = new CdktfProject(path.join(__dirname, "fixtures", "machines-app.ts"), {
        CLOUDNET_TEST_LAB: p,
        CLOUDNET_SSH_PORT: String(SSH_PORT),
        CLOUDNET_SUDO_USER: user,
        ...Object.fromEntries(MACHINES.flatMap((m) => [[`CLOUDNET_${m.toUpperCase()}`, address(m)], [`CLOUDNET_${m.toUpperCase()}_KEY`, sshds.get(m)!.clientKey]])),
      });
    }, TIMEOUT);

    afterAll(async () => {
      stopServers();
      for (const s of sshds.values()) {
        await stopSshd(s);
        fs.rmSync(s.dir, { recursive: true, force: true });
      }
      tryRun("userdel", [user]);
      fs.rmSync(sudoers, { force: true });
      tryRun("ip", ["link", "del", `${p}r`]);
      cleanupPrefix(p);
      project?.remove();
      const left = listNetns().filter((n) => n.startsWith(`${p}-`));
      if (left.length) throw new Error(`cleanup incomplete: namespaces ${left.join(", ")}`);
    }, TIMEOUT);

    test("deploy builds every machine's part over SSH, one of them through sudo", () => {
      const r = project!.deploy();
      expect({ status: r.status, log: r.status === 0 ? "" : `${r.output}\n${logs()}` }).toEqual({ status: 0, log: "" });
      expect(sshds.get("m1")!.log()).toMatch(/Accepted publickey for root from /);
      expect(sshds.get("m3")!.log()).toContain(`Accepted publickey for ${user} from `);
      expect(sshds.get("m3")!.log()).not.toContain("Accepted publickey for root");
      // Each machine has its own guests and the router only on m1, in its own /run.
      const netnsOn = (m: Machine) => onMachine(m, "ip", "netns", "list").stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(p)).sort();
      expect(netnsOn("m1")).toEqual([`${p}-g.client`, `${p}-rt.shop-web`]);
      expect(netnsOn("m2")).toEqual([`${p}-g.api1`]);
      expect(netnsOn("m3")).toEqual([`${p}-g.api2`, `${p}-g.outsider`]);
      // Each machine keeps the helper library in its own /run, held by the lab for that host; the test
      // machine's /run holds no hold of this lab.
      for (const m of MACHINES) {
        const held = onMachine(m, "ls", `/run/cloudnet/lib/${HELPER_LIBRARY_NAME}.holders`);
        expect({ m, status: held.status, holders: held.stdout.trim() }).toEqual({ m, status: 0, holders: `${p}@${m}` });
      }
      const rootHolders = tryRun("ls", [`/run/cloudnet/lib/${HELPER_LIBRARY_NAME}.holders`]).stdout.split("\n");
      expect(rootHolders.filter((h) => h.startsWith(p))).toEqual([]);
      // Nothing of the lab in the test machine's own namespaces.
      expect(listNetns().filter((n) => n.startsWith(p)).sort()).toEqual([...MACHINES.map(ns), sw].sort());
    }, TIMEOUT);

    test("packets: the service spreads over both backends across the overlay, groups decide who reaches an api, the nat network leaves through m1", async () => {
      await startServer(guest("api1"), 8080, "api1");
      await startServer(guest("api2"), 8080, "api2");
      // The service VIP, from m1 to backends on m2 and m3 over VXLAN: both answer (20 tries: one
      // backend alone would answer all of them with probability 2^-19).
      const answers = connectMany(guest("client"), "10.96.0.10", 80, 20);
      expect(new Set(answers)).toEqual(new Set(["api1 10.81.0.1", "api2 10.81.0.1"]));
      // The api group admits the frontend group on 8080: client (frontend) gets through, outsider (no
      // group, same network, one of them on its own host) does not; the same listeners answer the
      // client right after, so the probe works.
      expect(connect(guest("outsider"), "10.81.0.22", 8080, { timeoutMs: 1000 })).toBe("fail");
      expect(connect(guest("outsider"), "10.81.0.21", 8080, { timeoutMs: 1000 })).toBe("fail");
      expect(connect(guest("client"), "10.81.0.22", 8080)).toBe("api2 10.81.0.10");
      expect(connect(guest("client"), "10.81.0.21", 8080)).toBe("api1 10.81.0.10");
      // The isolated network carries the same groups across machines (m1 to m2).
      expect(connect(guest("client"), "10.82.0.21", 8080)).toBe("api1 10.82.0.10");
      // What the masquerade costs: the group sees the router, not the client, so anyone on the
      // network reaches the backends through the VIP (kube-proxy's hairpin has the same property).
      expect(connect(guest("outsider"), "10.96.0.10", 80).split(" ")[1]).toBe("10.81.0.1");
      // The nat network: from m1 and from m3 (over the overlay to m1's router), out through m1's
      // uplink with m1's address as the source.
      await startServer(sw, 80, "outside");
      expect(connect(guest("client"), outside, 80)).toBe(`outside ${address("m1")}`);
      expect(connect(guest("outsider"), outside, 80)).toBe(`outside ${address("m1")}`);
      // The frontend group is open on tcp/80 to anyone: the outsider (m3) reaches the client (m1) there
      // on both networks; on 81 (no rule) it does not, though the client listens there too.
      await startServer(guest("client"), 80, "client");
      await startServer(guest("client"), 81, "client81");
      expect(connect(guest("outsider"), "10.81.0.10", 80)).toBe("client 10.81.0.30");
      expect(connect(guest("outsider"), "10.82.0.10", 80)).toBe("client 10.82.0.30");
      expect(connect(guest("outsider"), "10.82.0.10", 81, { timeoutMs: 1000 })).toBe("fail");
      expect(connect(guest("client"), "127.0.0.1", 81)).toBe("client81 127.0.0.1");
    }, TIMEOUT);

    test("a second deploy plans no changes", () => {
      const r = project!.deploy();
      expect({ status: r.status, log: r.status === 0 ? "" : r.output }).toEqual({ status: 0, log: "" });
      expect(r.output).toContain("No changes.");
    }, TIMEOUT);

    test("destroy leaves every machine as it found it", () => {
      stopServers();
      const r = project!.destroy();
      expect({ status: r.status, log: r.status === 0 ? "" : `${r.output}\n${logs()}` }).toEqual({ status: 0, log: "" });
      for (const m of MACHINES) {
        const netns = onMachine(m, "ip", "netns", "list");
        expect({ m, status: netns.status, netns: netns.stdout.trim() }).toEqual({ m, status: 0, netns: "" });
        // find fails on a missing /run/cloudnet: the machine's /run itself must answer, and hold nothing of it.
        const run = onMachine(m, "ls", "-A", "/run");
        expect({ m, status: run.status, cloudnet: run.stdout.split("\n").includes("cloudnet") }).toEqual({ m, status: 0, cloudnet: false });
        expect({ m, state: fullState([ns(m)]) }).toEqual({ m, state: before.get(m) });
      }
    }, TIMEOUT);
  });
}
