import { renderLab } from "../../lib/render";
import { LocalExec, RemoteExec, hookFor, launcher, scriptEnvironment } from "../../lib/targets";
import { demoSpec, host, hostsLab, resolveOk, segment, sshHost, sshTarget } from "./support/lab-specs";
import { readTerraformLiteral } from "./support/terraform-template";

describe("hookFor", () => {
  describe("emulated lab", () => {
    const lab = resolveOk(demoSpec());
    const stages = renderLab(lab);
    const stage = (id: string) => stages.find((s) => s.id === id)!;

    it("controller stages: local-exec with bash, apply chunks in environment, the teardown's in the destroy provisioner", () => {
      const s = stage("fabric");
      const hook = hookFor(lab, s);
      expect(hook.input).toEqual({ stage: "fabric" });
      const [apply, destroy] = hook.provisioners as LocalExec[];
      expect(apply).toEqual({ type: "local-exec", interpreter: ["/bin/bash", "-c"], command: launcher([]), environment: scriptEnvironment(s.apply) });
      expect(destroy).toEqual({ type: "local-exec", when: "destroy", interpreter: ["/bin/bash", "-c"], command: launcher([]), environment: scriptEnvironment(s.teardown) });
      expect(hook.provisioners).toHaveLength(2);
    });

    it("stages on an emulated host: local-exec inside the host's namespace", () => {
      const hook = hookFor(lab, stage("network/h2"));
      const [apply, destroy] = hook.provisioners as LocalExec[];
      expect(apply.type).toBe("local-exec");
      expect(apply.command).toBe(launcher(["nsenter", "--net=/run/netns/demo-h2"]));
      expect(readTerraformLiteral(apply.command)!.split("\n").pop()).toBe("nsenter --net=/run/netns/demo-h2 /bin/bash \"$f\"");
      expect(destroy.command).toBe(launcher(["nsenter", "--net=/run/netns/demo-h2"], { skipIfNetnsGone: "demo-h2" }));
      expect(destroy.environment).toEqual(scriptEnvironment(stage("network/h2").teardown));
    });
  });

  describe("real hosts", () => {
    const lab = resolveOk(hostsLab({
      hosts: [
        sshHost("h1", "192.0.2.10"),
        sshHost("h2", "192.0.2.11", { target: sshTarget("h2.example", { user: "ops", port: 2222, privateKeyFile: "~/.ssh/lab", sudo: true }) }),
        host("h3", { target: { kind: "local" }, underlayAddress: "192.0.2.12" }),
      ],
      segments: [segment("blue", "10.10.0.0/24", { hosts: ["h1", "h2", "h3"] })],
    }));
    const stage = (id: string) => renderLab(lab).find((s) => s.id === id)!;

    it("local target: local-exec on the machine itself, without a namespace", () => {
      const [apply] = hookFor(lab, stage("network/h3")).provisioners as LocalExec[];
      expect(apply.type).toBe("local-exec");
      expect(apply.command).toBe(launcher([]));
    });

    it("ssh target: remote-exec whose connection reads only self.input, as destroy-time provisioners must", () => {
      const hook = hookFor(lab, stage("network/h2"));
      expect(hook.input.ssh).toEqual({ host: "h2.example", user: "ops", port: 2222, key: "~/.ssh/lab" });
      const [apply, destroy] = hook.provisioners as RemoteExec[];
      const connection = { type: "ssh", host: "${self.input.ssh.host}", user: "${self.input.ssh.user}", port: "${self.input.ssh.port}", privateKey: "${file(self.input.ssh.key)}" };
      expect(apply.type).toBe("remote-exec");
      expect(apply.connection).toEqual(connection);
      expect(destroy).toMatchObject({ type: "remote-exec", when: "destroy", connection });
    });

    it("ssh target: the inline program writes the stage's script through a quoted heredoc and runs it with sudo -n when asked", () => {
      const s = stage("network/h2");
      const hook = hookFor(lab, s);
      const inline = (hook.provisioners[0] as RemoteExec).inline.map((l) => readTerraformLiteral(l)!);
      expect(inline[0]).toBe("#!/bin/sh");
      expect(inline[1]).toBe(`f=$(mktemp) || exit 1\ncat > "$f" <<'CLOUDNET_STAGE_EOF'\n${s.apply}CLOUDNET_STAGE_EOF`);
      expect(inline[2]).toBe("sudo -n /bin/bash \"$f\"; rc=$?; rm -f \"$f\"; exit $rc");
      const teardown = (hook.provisioners[1] as RemoteExec).inline.map((l) => readTerraformLiteral(l)!);
      expect(teardown[1]).toBe(`f=$(mktemp) || exit 1\ncat > "$f" <<'CLOUDNET_STAGE_EOF'\n${s.teardown}CLOUDNET_STAGE_EOF`);
    });

    it("ssh target as root: no sudo", () => {
      const inline = (hookFor(lab, stage("network/h1")).provisioners[0] as RemoteExec).inline;
      expect(inline[2]).toBe("/bin/bash \"$f\"; rc=$?; rm -f \"$f\"; exit $rc");
    });
  });

  it("refuses a stage that runs on a host the lab does not have", () => {
    const lab = resolveOk(demoSpec());
    const stage = { ...renderLab(lab)[2], runOn: { kind: "host" as const, host: "h9" } };
    expect(() => hookFor(lab, stage)).toThrow("runs on unknown host h9");
  });
});
