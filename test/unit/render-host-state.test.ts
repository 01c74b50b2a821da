import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HOST_STATE_HELPERS } from "../../lib/render";
import { runBash } from "./support/bash";

/**
 * Host settings shared by labs: a fake `sysctl` keeps values in files, so the helpers run without
 * root. Two labs on one host hold ip_forward; only the last release puts the old value back.
 */
describe("cn_sysctl_hold / cn_sysctl_release", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-sysctl-"));
  const values = path.join(dir, "values");
  fs.mkdirSync(values);
  fs.writeFileSync(path.join(dir, "sysctl"), [
    "#!/bin/bash",
    `v='${values}'`,
    'if [ "$1" = -n ]; then cat "$v/$2"; exit; fi',
    'if [ "$1" = -qw ]; then echo "${2#*=}" > "$v/${2%%=*}"; exit; fi',
    "exit 2",
  ].join("\n"), { mode: 0o755 });
  const env = { PATH: `${dir}:${process.env.PATH}`, CLOUDNET_STATE: path.join(dir, "state") };
  const sh = (body: string) => {
    const r = runBash([...HOST_STATE_HELPERS, body].join("\n"), env);
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const value = () => fs.readFileSync(path.join(values, "net.ipv4.ip_forward"), "utf8").trim();
  const set = (v: string) => fs.writeFileSync(path.join(values, "net.ipv4.ip_forward"), `${v}\n`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("restores the value found before the first lab only when the last lab lets go", () => {
    set("0");
    sh("cn_sysctl_hold net.ipv4.ip_forward host laba && sysctl -qw net.ipv4.ip_forward=1");
    sh("cn_sysctl_hold net.ipv4.ip_forward host labb && sysctl -qw net.ipv4.ip_forward=1");
    sh("cn_sysctl_release net.ipv4.ip_forward host laba");
    expect(value()).toBe("1");
    sh("cn_sysctl_release net.ipv4.ip_forward host labb");
    expect(value()).toBe("0");
    expect(fs.existsSync(path.join(dir, "state", "host", "net.ipv4.ip_forward"))).toBe(false);
  });

  it("holding twice keeps the first saved value, and releasing twice is fine", () => {
    set("0");
    sh("cn_sysctl_hold net.ipv4.ip_forward host laba && sysctl -qw net.ipv4.ip_forward=1");
    sh("cn_sysctl_hold net.ipv4.ip_forward host laba");
    sh("cn_sysctl_release net.ipv4.ip_forward host laba");
    sh("cn_sysctl_release net.ipv4.ip_forward host laba");
    expect(value()).toBe("0");
  });

  it("scopes are separate: a namespace's holder does not keep the host's value", () => {
    set("0");
    sh("cn_sysctl_hold net.ipv4.ip_forward lab-h1 laba");
    sh("cn_sysctl_hold net.ipv4.ip_forward host labb && sysctl -qw net.ipv4.ip_forward=1");
    sh("cn_sysctl_release net.ipv4.ip_forward host labb");
    expect(value()).toBe("0");
    sh("cn_sysctl_release net.ipv4.ip_forward lab-h1 laba");
  });
});

/**
 * br_netfilter on a host that lacks it (this machine's kernel has it built in, so the kernel tier
 * cannot show this): stand-in `modprobe` and `sysctl` record what they are asked. The first lab
 * loads it and turns the host-wide switches off; a second lab changes nothing; the last to let go
 * unloads it. Where the host had it already, nothing is loaded, switched or unloaded.
 */
describe("cn_brnf_hold / cn_brnf_release", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-brnf-"));
  const log = path.join(dir, "calls");
  for (const cmd of ["modprobe", "sysctl"]) {
    fs.writeFileSync(path.join(dir, cmd), `#!/bin/sh\necho "${cmd} $*" >> '${log}'\n`, { mode: 0o755 });
  }
  const proc = path.join(dir, "proc-bridge");
  const env = { PATH: `${dir}:${process.env.PATH}`, CLOUDNET_STATE: path.join(dir, "state"), CLOUDNET_BRIDGE_SYSCTLS: proc };
  const sh = (body: string) => {
    const r = runBash([...HOST_STATE_HELPERS, body].join("\n"), env);
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
  beforeEach(() => fs.rmSync(log, { force: true }));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("loads it with the host-wide switches off for the first lab, unloads it after the last", () => {
    fs.rmSync(proc, { force: true });
    sh("cn_brnf_hold host laba");
    expect(calls()).toEqual([
      "modprobe br_netfilter",
      "sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0",
    ]);
    fs.mkdirSync(proc); // now loaded
    sh("cn_brnf_hold host labb");
    sh("cn_brnf_release host laba");
    expect(calls().filter((c) => c.startsWith("modprobe"))).toEqual(["modprobe br_netfilter"]);
    sh("cn_brnf_release host labb");
    expect(calls().filter((c) => c.startsWith("modprobe"))).toEqual(["modprobe br_netfilter", "modprobe -r br_netfilter"]);
    expect(fs.existsSync(path.join(dir, "state", "host", "br_netfilter"))).toBe(false);
    fs.rmSync(proc, { recursive: true, force: true });
  });

  it("where the host has it already, holding and releasing run neither modprobe nor sysctl", () => {
    fs.mkdirSync(proc, { recursive: true });
    sh("cn_brnf_hold host laba");
    sh("cn_brnf_release host laba");
    expect(calls()).toEqual([]);
    fs.rmSync(proc, { recursive: true, force: true });
  });
});
