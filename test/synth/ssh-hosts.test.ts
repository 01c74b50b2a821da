import { qosMajor } from "../../lib/model";
import { Backend, Lab, Target } from "../../lib";
import { synthJson } from "../support/labs";
import { hooksByStage, provisionersOf, teardownOf } from "./support/terraform-json";

/** Three real hosts: two over SSH (one as a sudo user on port 2222), one the local machine. */
const json = synthJson((s) => {
  const lab = new Lab(s, "lab", { backend: Backend.hosts() });
  lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
  lab.addHost("h2", { target: Target.ssh({ host: "h2.example", user: "ops", port: 2222, privateKeyFile: "~/.ssh/lab", sudo: true }), underlayAddress: "192.0.2.11" });
  lab.addHost("h3", { target: Target.local(), underlayAddress: "192.0.2.12" });
  lab.addSegment("blue", { cidr: "10.20.0.0/24", hosts: ["h1", "h2", "h3"] });
});
const hooks = hooksByStage(json);

const CONNECTION = {
  type: "ssh",
  host: "${self.input.ssh.host}",
  user: "${self.input.ssh.user}",
  port: "${self.input.ssh.port}",
  private_key: "${file(self.input.ssh.key)}",
};

describe("Backend.hosts() with SSH targets", () => {
  it("renders an owner, a network, a rules (host guard) and a converge hook per host and none of the emulated stages", () => {
    expect(Object.keys(hooks).sort()).toEqual([
      "converge/h1", "converge/h2", "converge/h3", "firewall/h1", "firewall/h2", "firewall/h3",
      "helpers/h1", "helpers/h2", "helpers/h3", "network/h1", "network/h2", "network/h3", "owner/h1", "owner/h2", "owner/h3",
    ]);
    const ref = (stage: string) => `terraform_data.${hooks[stage].name}`;
    for (const h of ["h1", "h2", "h3"]) {
      // Every stage of a host comes after the helper library its scripts source, which needs nothing.
      expect(hooks[`helpers/${h}`].body.depends_on).toBeUndefined();
      expect(hooks[`owner/${h}`].body.depends_on).toEqual([ref(`helpers/${h}`)]);
      expect(hooks[`network/${h}`].body.depends_on).toEqual([ref(`helpers/${h}`), ref(`owner/${h}`)]);
      expect(hooks[`firewall/${h}`].body.depends_on).toEqual([ref(`helpers/${h}`), ref(`network/${h}`)]);
      expect(hooks[`converge/${h}`].body.depends_on).toEqual([ref(`helpers/${h}`), ref(`owner/${h}`), ref(`network/${h}`), ref(`firewall/${h}`)]);
    }
  });

  it("SSH hosts apply and tear down with remote-exec; the connection reads self.input.ssh only", () => {
    for (const id of ["owner/h1", "network/h1", "firewall/h1", "converge/h1", "owner/h2", "network/h2", "firewall/h2", "converge/h2"]) {
      const [apply, destroy, ...rest] = provisionersOf(hooks[id].body);
      expect(rest).toEqual([]);
      expect(apply.kind).toBe("remote-exec");
      expect(apply.body.connection).toEqual(CONNECTION);
      expect(destroy.kind).toBe("remote-exec");
      expect(destroy.body).toEqual({ when: "destroy", inline: teardownOf(hooks[id].body), connection: CONNECTION });
      expect(destroy.body.inline[0]).toBe("#!/bin/sh");
    }
  });

  it("keeps the SSH details in input, where the destroy-time connection can read them", () => {
    expect(hooks["network/h1"].body.input.ssh).toEqual({ host: "192.0.2.10", user: "root", port: 22, key: "~/.ssh/id_ed25519" });
    expect(hooks["network/h2"].body.input.ssh).toEqual({ host: "h2.example", user: "ops", port: 2222, key: "~/.ssh/lab" });
  });

  it("the inline program writes the script through a quoted heredoc and runs it, with sudo -n for a non-root user", () => {
    const [apply] = provisionersOf(hooks["network/h2"].body);
    const inline: string[] = apply.body.inline;
    expect(inline[0]).toBe("#!/bin/sh");
    expect(inline[1].startsWith("f=$(mktemp) || exit 1\ncat > \"$f\" <<'CLOUDNET_STAGE_EOF'\nset -Eeuo pipefail\n")).toBe(true);
    expect(inline[1].endsWith("\nCLOUDNET_STAGE_EOF")).toBe(true);
    expect(inline[1]).toContain("\ncn_flood labv-blue 192.0.2.10 192.0.2.12\n");
    expect(inline[2]).toBe("sudo -n /bin/bash \"$f\"; rc=$?; rm -f \"$f\"; exit $rc");
    expect(teardownOf(hooks["network/h2"].body)[2]).toBe(inline[2]);
    expect(provisionersOf(hooks["network/h1"].body)[0].body.inline[2]).toBe("/bin/bash \"$f\"; rc=$?; rm -f \"$f\"; exit $rc");
  });

  it("the teardown (in the destroy provisioner) is the same program around the teardown script: the owner's removes the lab's objects, the network's nothing", () => {
    const owner: string[] = teardownOf(hooks["owner/h1"].body);
    expect(owner[0]).toBe("#!/bin/sh");
    // On a real host only the links the lab recorded making are its own.
    expect(owner[1]).toContain("\ncn_log 'remove lab lab on h1'\ncn_netns_prune lab-rt. -\ncn_netns_prune lab-g. -\ncn_records_prune host lab links -\n");
    expect(owner[1]).toContain(`\ncn_records_prune host lab routes -\ncn_records_prune host lab addresses -\ncn_holds_prune host lab -\ncn_bird_down /run/cloudnet/bird/host lab\ncn_ovs_prune - lab -\ncn_tc_prune ${qosMajor("lab").toString(16)} lab host -\ncn_state_tidy host\nCLOUDNET_STAGE_EOF`);
    expect(owner[2]).toBe("/bin/bash \"$f\"; rc=$?; rm -f \"$f\"; exit $rc");
    const network: string[] = teardownOf(hooks["network/h1"].body);
    expect(network[0]).toBe("#!/bin/sh");
    expect(network[1]).toContain("\ncn_log 'remove network on h1: blue'\n: # kept: the lab's owner stage removes it on destroy, the converge stage once it is no longer declared\nCLOUDNET_STAGE_EOF");
  });

  it("the local host applies with local-exec and no namespace", () => {
    const [apply, destroy] = provisionersOf(hooks["network/h3"].body);
    expect(apply.kind).toBe("local-exec");
    expect(apply.body.command.split("\n").pop()).toBe("/bin/bash \"$f\"");
    expect(destroy.body).toMatchObject({ when: "destroy", environment: { CLOUDNET_SCRIPT_0: expect.stringContaining("cn_log 'remove network on h3") } });
    expect(hooks["network/h3"].body.input.ssh).toBeUndefined();
  });
});
