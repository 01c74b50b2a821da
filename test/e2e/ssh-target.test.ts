// End to end through the SSH target: `cdktf deploy` of a one-host lab whose host is an sshd running
// in a network namespace, reached over a veth pair. The host's network stage must build the
// segment's bridge and VXLAN device in that namespace over SSH, plan "No changes" the second time,
// and on destroy remove exactly what it built.
import * as fs from "fs";
import * as path from "path";
import { CdktfProject } from "../support/cdktf";
import { cleanupPrefix, isRoot, listNetns, run, tryRun, uniquePrefix } from "../support/netns";
import { createVethNamespace, processExists, rootLinkExists, startSshd, stopSshd, Sshd, VethNamespace, waitRootLinkGone } from "../support/sshd";

const TIMEOUT = 240_000;
const SSH_PORT = 2222;
const VNI = 4242;
const CIDR = "10.77.0.0/24";
/** VXLAN over IPv4 costs 50 bytes of the default 1500-byte underlay MTU. */
const SEGMENT_MTU = 1450;

if (!isRoot()) {
  describe("ssh target (e2e)", () => {
    test("requires root", () => {
      throw new Error(
        "test/e2e/ssh-target.test.ts must run as root: it creates a network namespace, a veth pair and an sshd. " +
          "Run it as root, e.g. `sudo npx jest --selectProjects e2e -t ssh`.",
      );
    });
  });
} else {
  describe("ssh target (e2e)", () => {
    const prefix = uniquePrefix("s");
    const bridge = `${prefix}b-blue`;
    const vxlan = `${prefix}v-blue`;
    let link: VethNamespace | undefined;
    let sshd: Sshd | undefined;
    let project: CdktfProject | undefined;
    /** `ip -d link` of the namespace before the first deploy. */
    let linksBefore = "";

    /** `ip -n ns -d link show [dev X]`: status and output. */
    const nsLinks = (dev?: string) => tryRun("ip", ["-n", link!.ns, "-d", "link", "show", ...(dev ? ["dev", dev] : [])]);
    /** The namespace's links without counters (none are printed without -s; drop them if a version does). */
    const linkState = () => {
      const r = nsLinks();
      if (r.status !== 0) throw new Error(`ip -n ${link!.ns} -d link show failed: ${r.stderr}`);
      return r.stdout.split("\n").filter((l) => !/^\s*(RX|TX)[: ]/.test(l)).join("\n");
    };
    const explain = (what: string, output: string) => `${what}\n--- cdktf output ---\n${output}\n--- sshd log ---\n${sshd?.log() ?? ""}`;

    beforeAll(async () => {
      link = createVethNamespace(prefix);
      // The namespace routes its /30 and nothing else.
      const routes = run("ip", ["-n", link.ns, "-4", "route", "show"]).trim().split("\n");
      expect(routes).toHaveLength(1);
      expect(routes[0]).toMatch(new RegExp(`^${link.rootAddress.replace(/\.\d+$/, "").replace(/\./g, "\\.")}\\.\\d+/30 dev ${link.nsDev} `));
      sshd = await startSshd(link.ns, link.nsAddress, SSH_PORT);
      project = new CdktfProject(path.join(__dirname, "fixtures", "ssh-app.ts"), {
        CLOUDNET_TEST_LAB: prefix,
        CLOUDNET_SSH_HOST: link.nsAddress,
        CLOUDNET_SSH_PORT: String(SSH_PORT),
        CLOUDNET_SSH_KEY: sshd.clientKey,
        CLOUDNET_SEGMENT_CIDR: CIDR,
        CLOUDNET_SEGMENT_VNI: String(VNI),
      });
      linksBefore = linkState();
    }, TIMEOUT);

    afterAll(async () => {
      const problems: string[] = [];
      const sshdPid = sshd?.process.pid;
      if (sshd) await stopSshd(sshd);
      cleanupPrefix(prefix);
      if (link && !(await waitRootLinkGone(link.rootDev))) problems.push(`root veth end ${link.rootDev} still exists after deleting ${link.ns}`);
      if (listNetns().some((n) => n.startsWith(`${prefix}-`))) problems.push(`namespaces of ${prefix} left: ${listNetns().join(", ")}`);
      if (sshdPid !== undefined && processExists(sshdPid)) problems.push(`sshd (pid ${sshdPid}) still runs`);
      if (sshd) fs.rmSync(sshd.dir, { recursive: true, force: true });
      project?.remove();
      if (problems.length > 0) throw new Error(`cleanup incomplete: ${problems.join("; ")}`);
    }, TIMEOUT);

    test("deploy builds the segment's bridge and VXLAN device on the host over SSH", () => {
      const r = project!.deploy();
      expect({ status: r.status, log: r.status === 0 ? "" : explain("deploy failed", r.output) }).toEqual({ status: 0, log: "" });
      // It went through the sshd, authenticated with the client key, without checking the host key
      // (so nothing could prompt), and ran the host's network stage there.
      expect(sshd!.log()).toMatch(/Accepted publickey for root from /);
      expect(r.output).toContain("Checking Host Key: false");
      expect(r.output).toContain("(remote-exec): cloudnet: network on h1: blue");

      // The hook connects with the target's settings, read from `self` (destroy-time provisioners can
      // use nothing else) and without host_key: Terraform's SSH communicator then accepts any host key
      // (ssh.InsecureIgnoreHostKey) and never prompts.
      const synth = JSON.parse(fs.readFileSync(path.join(project!.dir, "cdktf.out", "stacks", "ssh", "cdk.tf.json"), "utf8"));
      const hooks = Object.values(synth.resource.terraform_data) as any[];
      // The host's helper library, owner, network, host guard and converge stage.
      expect(hooks.map((h) => h.input.stage).sort()).toEqual(["converge/h1", "firewall/h1", "helpers/h1", "network/h1", "owner/h1"]);
      for (const h of hooks) expect(h.input.ssh).toEqual({ host: link!.nsAddress, user: "root", port: SSH_PORT, key: sshd!.clientKey });
      const remote = hooks.flatMap((h) => h.provisioner.map((p: any) => p["remote-exec"]));
      expect(remote.every(Boolean)).toBe(true);
      for (const p of remote) {
        expect(p.connection).toEqual({
          type: "ssh", host: "${self.input.ssh.host}", user: "${self.input.ssh.user}", port: "${self.input.ssh.port}",
          private_key: "${file(self.input.ssh.key)}",
        });
      }

      const br = nsLinks(bridge);
      expect({ status: br.status, stderr: br.stderr }).toEqual({ status: 0, stderr: "" });
      expect(br.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/); // administratively up
      expect(br.stdout).toMatch(new RegExp(`\\bmtu ${SEGMENT_MTU}\\b`));
      expect(br.stdout).toMatch(/\n\s+bridge /);

      const vx = nsLinks(vxlan);
      expect({ status: vx.status, stderr: vx.stderr }).toEqual({ status: 0, stderr: "" });
      expect(vx.stdout).toMatch(new RegExp(`\\n\\s+vxlan id ${VNI} local ${link!.nsAddress.replace(/\./g, "\\.")} .*dstport 4789\\b`));
      expect(vx.stdout).toMatch(new RegExp(`\\bmaster ${bridge}\\b`));
      expect(vx.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/);
      expect(vx.stdout).toMatch(new RegExp(`\\bmtu ${SEGMENT_MTU}\\b`));

      // Nothing landed in the root namespace.
      expect(rootLinkExists(bridge)).toBe(false);
      expect(rootLinkExists(vxlan)).toBe(false);
    }, TIMEOUT);

    test("a second deploy plans no changes", () => {
      const r = project!.deploy();
      expect({ status: r.status, log: r.status === 0 ? "" : explain("second deploy failed", r.output) }).toEqual({ status: 0, log: "" });
      expect(r.output).toContain("No changes");
    }, TIMEOUT);

    test("destroy removes the segment's devices and nothing else", () => {
      const r = project!.destroy();
      expect({ status: r.status, log: r.status === 0 ? "" : explain("destroy failed", r.output) }).toEqual({ status: 0, log: "" });
      // The owner removes what the lab has on the host; the other stages' destroy does nothing.
      expect(r.output).toMatch(/\(remote-exec\): cloudnet: remove lab \S+ on h1/);
      expect(nsLinks(bridge).status).not.toBe(0);
      expect(nsLinks(vxlan).status).not.toBe(0);
      // lo and the veth end are as they were before the first deploy.
      expect(linkState()).toEqual(linksBefore);
      // What remote-exec leaves in the host's /tmp is its emptied script files; the stage scripts
      // the hook wrote with mktemp are gone.
      const leftovers = fs.readdirSync(sshd!.sessionTmp).filter((f) => f !== path.basename(sshd!.dir));
      for (const f of leftovers) {
        expect({ file: f, size: fs.statSync(path.join(sshd!.sessionTmp, f)).size }).toEqual({ file: expect.stringMatching(/^terraform_\d+\.sh$/), size: 0 });
      }
    }, TIMEOUT);
  });
}
