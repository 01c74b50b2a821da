import * as fs from "fs";
import { kernelName } from "../../lib/net";
import { CdktfProject } from "../support/cdktf";
import { rulesIn, withoutTimers } from "../support/kernel-state";
import { cleanupPrefix, nsExec, run, uniquePrefix } from "../support/netns";
import { createMachine } from "../support/machine";
import { requireRoot } from "../support/root";

/**
 * The local target end to end: `cdktf deploy` runs inside a network namespace (entered with
 * nsenter, so namespaces it creates stay visible), which plays the machine Terraform runs on. The
 * lab's nat network puts its bridge, router namespace, NAT rules and uplink forwarding there; destroy puts
 * the machine back as it was.
 */
const lab = uniquePrefix("l");
const machine = `${lab}-machine`;
let project: CdktfProject;

/** What the lab may touch on the machine: links, addresses, routes, rules, forwarding. */
function machineState(): string {
  return [
    withoutTimers(run("ip", ["-n", machine, "-d", "link", "show"])),
    // Link-local addresses are "tentative" for a moment after the links come up (IPv6 DAD).
    run("ip", ["-n", machine, "addr"]).replace(/ tentative/g, ""), run("ip", ["-n", machine, "route"]),
    rulesIn(machine),
    nsExec(machine, "sysctl", ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.eth0.forwarding", "net.ipv6.conf.all.forwarding"]).stdout,
  ].join("\n==\n");
}

let before = "";

describe("local target: cdktf deploy / deploy / destroy on the machine itself (e2e)", () => {
  beforeAll(() => {
    requireRoot();
    createMachine(machine);
    // A rule of the machine's own, which must survive.
    run("ip", ["netns", "exec", machine, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "-j", "MASQUERADE"]);
    before = machineState();
    project = new CdktfProject(`${__dirname}/fixtures/local-app.ts`, { CLOUDNET_TEST_LAB: lab }, ["nsenter", `--net=/run/netns/${machine}`]);
  });

  afterAll(() => {
    project?.destroy();
    cleanupPrefix(lab);
    project?.remove();
  });

  test("deploy builds the bridge, the router namespace and the NAT on the machine", () => {
    const r = project.deploy();
    expect(r.output).toContain("Apply complete!");
    expect(r.status).toBe(0);
    expect(run("ip", ["-n", machine, "-br", "link"])).toContain(kernelName(lab, "b", "acme-web"));
    expect(fs.existsSync(`/run/netns/${lab}-rt.acme-web`)).toBe(true);
    expect(run("ip", ["-n", `${lab}-rt.acme-web`, "-br", "addr", "show", "gw0"])).toContain("10.50.0.1/24");
    expect(run("ip", ["netns", "exec", machine, "iptables", "-t", "nat", "-S", `CN-${lab}-SNAT`])).toContain("-s 10.50.0.0/24 -o eth0 -j MASQUERADE");
    // Forwarding on the uplink (and the router's link) only: the machine-wide switch stays off.
    expect(nsExec(machine, "sysctl", ["-n", "net.ipv4.conf.eth0.forwarding"]).stdout.trim()).toBe("1");
    expect(nsExec(machine, "sysctl", ["-n", "net.ipv4.ip_forward"]).stdout.trim()).toBe("0");
  }, 300_000);

  test("a second deploy reports no changes", () => {
    const r = project.deploy();
    expect(r.status).toBe(0);
    expect(r.output).toContain("No changes.");
  }, 300_000);

  test("destroy puts the machine back as it was: links, addresses, routes, rules and forwarding", () => {
    const r = project.destroy();
    expect(r.status).toBe(0);
    expect(fs.existsSync(`/run/netns/${lab}-rt.acme-web`)).toBe(false);
    expect(machineState()).toBe(before);
  }, 300_000);
});
