import { shellWord } from "../net";
import { ResolvedLab, TargetSpec } from "../model";
import { Stage } from "../render";
import { launcher, scriptEnvironment } from "./payload";
import { terraformLiteral } from "./terraform-literal";

/** A `local-exec` provisioner, as plain data. */
export interface LocalExec {
  readonly type: "local-exec";
  readonly interpreter: string[];
  readonly command: string;
  readonly environment: Record<string, string>;
  readonly when?: "destroy";
}

/** A `remote-exec` provisioner with its SSH connection, as plain data. */
export interface RemoteExec {
  readonly type: "remote-exec";
  readonly inline: string[];
  readonly connection: {
    readonly type: "ssh";
    readonly host: string;
    readonly user: string;
    readonly port: number;
    readonly privateKey: string;
  };
  readonly when?: "destroy";
}

export type Provisioner = LocalExec | RemoteExec;

/**
 * How one stage reaches its host in Terraform: the provisioners of a `terraform_data` resource and
 * the `input` they read (destroy provisioners may reference nothing of the resource but `self`).
 * The teardown is written into the destroy provisioner itself: Terraform runs the destroy provisioner
 * of the current configuration, so a teardown that changes alone (an owner's, when a helper it calls
 * changes) is simply the one `destroy` runs, with no replacement and no line in the plan; and plans
 * never print provisioners, so no script shows there.
 */
export interface Hook {
  readonly input: Record<string, unknown>;
  readonly provisioners: Provisioner[];
}

const BASH = ["/bin/bash", "-c"];

/**
 * Runs a command in a named network namespace. nsenter switches only the network namespace (unlike
 * `ip netns exec`, which also makes a private mount namespace), so a namespace that the script
 * creates in turn, such as a segment's router, is visible to later stages.
 */
function inNetns(netns: string): string[] {
  return ["nsenter", `--net=/run/netns/${shellWord(netns)}`];
}

/** Builds the hook for a stage according to where it runs. */
export function hookFor(lab: ResolvedLab, stage: Stage): Hook {
  const runOn = stage.runOn;
  if (runOn.kind === "controller") return localHook(stage, []);
  if (runOn.kind === "netns") return localHook(stage, inNetns(runOn.netns), runOn.netns);
  const host = lab.hosts.find((h) => h.name === runOn.host);
  if (!host) throw new Error(`stage ${stage.id} runs on unknown host ${runOn.host}`);
  switch (host.target.kind) {
    case "emulated":
      return localHook(stage, inNetns(host.netns!), host.netns);
    case "local":
      return localHook(stage, []);
    case "ssh":
      return sshHook(stage, host.target);
  }
}

function localHook(stage: Stage, runner: string[], netns?: string): Hook {
  return {
    input: { stage: stage.id },
    provisioners: [
      { type: "local-exec", interpreter: BASH, command: launcher(runner), environment: scriptEnvironment(stage.apply) },
      {
        type: "local-exec", when: "destroy", interpreter: BASH,
        command: launcher(runner, { skipIfNetnsGone: netns }), environment: scriptEnvironment(stage.teardown),
      },
    ],
  };
}

type SshTarget = Extract<TargetSpec, { kind: "ssh" }>;

/** Ends the heredoc that carries a whole stage; the stages' own payload heredocs use CLOUDNET_EOF. */
const SSH_TAG = "CLOUDNET_STAGE_EOF";

/**
 * Over SSH, remote-exec uploads the lines as one script file. It writes the stage's script to a
 * private temporary file through a quoted heredoc (nothing in it is expanded) and runs it with bash.
 */
function sshHook(stage: Stage, target: SshTarget): Hook {
  const wrap = (script: string) => [
    "#!/bin/sh",
    `f=$(mktemp) || exit 1\ncat > "$f" <<'${SSH_TAG}'\n${terraformLiteral(script)}${SSH_TAG}`,
    `${target.sudo ? "sudo -n " : ""}/bin/bash "$f"; rc=$?; rm -f "$f"; exit $rc`,
  ];
  if (stage.apply.split("\n").includes(SSH_TAG) || stage.teardown.split("\n").includes(SSH_TAG)) {
    throw new Error(`stage ${stage.id} contains the heredoc terminator ${SSH_TAG}`);
  }
  const ssh = { host: target.host, user: target.user, port: target.port, key: target.privateKeyFile };
  // Both provisioners read the connection from `self`, as destroy-time ones must.
  const connection = {
    type: "ssh" as const,
    host: "${self.input.ssh.host}",
    user: "${self.input.ssh.user}",
    port: "${self.input.ssh.port}" as unknown as number,
    privateKey: "${file(self.input.ssh.key)}",
  };
  return {
    input: { stage: stage.id, ssh },
    provisioners: [
      { type: "remote-exec", inline: wrap(stage.apply), connection },
      { type: "remote-exec", when: "destroy", inline: wrap(stage.teardown), connection },
    ],
  };
}
