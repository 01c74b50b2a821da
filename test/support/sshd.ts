import { ChildProcess, spawn } from "child_process";
import { randomInt } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { run, tryRun } from "./netns";

/**
 * A namespace joined to the root namespace by one veth pair on a /30 from 198.19.0.0/16 (RFC 2544):
 * the root end is `${prefix}r` with `.1`, the namespace end `${prefix}n` with `.2`. The namespace has
 * no other route, so it reaches the root namespace's end of the pair and nothing else.
 */
export interface VethNamespace {
  readonly ns: string;
  readonly rootDev: string;
  readonly nsDev: string;
  readonly rootAddress: string;
  readonly nsAddress: string;
}

/** Picks a /30 in 198.19.0.0/16 that no address of the root namespace is in. */
function freeSubnet(): { rootAddress: string; nsAddress: string } {
  const used = run("ip", ["-4", "-o", "addr", "show"]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = randomInt(0, 256);
    const base = randomInt(0, 64) * 4;
    const inUse = [0, 1, 2, 3].some((i) => used.includes(` 198.19.${third}.${base + i}/`));
    if (!inUse) return { rootAddress: `198.19.${third}.${base + 1}`, nsAddress: `198.19.${third}.${base + 2}` };
  }
  throw new Error("no free /30 in 198.19.0.0/16 after 50 tries");
}

/** Creates namespace `${prefix}-ssh` and the veth pair into it (see VethNamespace). */
export function createVethNamespace(prefix: string): VethNamespace {
  const ns = `${prefix}-ssh`;
  const rootDev = `${prefix}r`;
  const nsDev = `${prefix}n`;
  if (rootDev.length > 15) throw new Error(`interface name '${rootDev}' exceeds 15 bytes`);
  const { rootAddress, nsAddress } = freeSubnet();
  run("ip", ["netns", "add", ns]);
  run("ip", ["-n", ns, "link", "set", "lo", "up"]);
  run("ip", ["link", "add", rootDev, "type", "veth", "peer", "name", nsDev, "netns", ns]);
  run("ip", ["addr", "add", `${rootAddress}/30`, "dev", rootDev]);
  run("ip", ["link", "set", rootDev, "up"]);
  run("ip", ["-n", ns, "addr", "add", `${nsAddress}/30`, "dev", nsDev]);
  run("ip", ["-n", ns, "link", "set", nsDev, "up"]);
  return { ns, rootDev, nsDev, rootAddress, nsAddress };
}

/** True while a link of that name exists in the root namespace. */
export function rootLinkExists(dev: string): boolean {
  return tryRun("ip", ["link", "show", "dev", dev]).status === 0;
}

/** Waits (bounded) until a root-namespace link is gone, e.g. the peer of a deleted namespace's veth. */
export async function waitRootLinkGone(dev: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (rootLinkExists(dev)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

export interface Sshd {
  /** Directory with keys, config, log and pid file; remove it when done. */
  readonly dir: string;
  /** The client's private key (ed25519, mode 0600), authorized for root. */
  readonly clientKey: string;
  /** The public host key line (`ssh-ed25519 AAAA...`). */
  readonly hostPublicKey: string;
  /** What the sshd's sessions see as /tmp; it holds nothing else of the machine's /tmp. */
  readonly sessionTmp: string;
  readonly address: string;
  readonly port: number;
  readonly process: ChildProcess;
  log(): string;
}

export interface SshdOptions {
  /**
   * Give the sshd (and so every session, and every namespace the scripts make) a /run of its own, as
   * a separate machine has: its /run/netns, /run/cloudnet and locks are not the test machine's. Reach
   * what is inside with `nsenter -t <sshd pid> -m`. @default false
   */
  readonly privateRun?: boolean;
}

/**
 * Generates a client and a host key and starts `/usr/sbin/sshd -D` inside `ns` with its own config,
 * listening on `address:port`, root login by key only. Its sessions get a private /tmp (a
 * directory under `dir`), so what Terraform's remote-exec leaves in "/tmp" of the remote host does
 * not litter the machine's /tmp: the sshd runs in the mount namespace `ip netns exec` creates, where
 * that directory is bind-mounted on /tmp with `dir` itself mounted back at its own path.
 */
export async function startSshd(ns: string, address: string, port: number, options: SshdOptions = {}): Promise<Sshd> {
  const dir = fs.mkdtempSync("/tmp/cloudnet-sshd-");
  try {
    return await launchSshd(dir, ns, address, port, options);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launchSshd(dir: string, ns: string, address: string, port: number, options: SshdOptions): Promise<Sshd> {
  const clientKey = path.join(dir, "client_ed25519");
  const hostKey = path.join(dir, "host_ed25519");
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cloudnet-e2e-client", "-f", clientKey]);
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cloudnet-e2e-host", "-f", hostKey]);
  fs.chmodSync(clientKey, 0o600);
  fs.chmodSync(hostKey, 0o600);
  const authorizedKeys = path.join(dir, "authorized_keys");
  fs.copyFileSync(`${clientKey}.pub`, authorizedKeys);
  // sshd reads it as the user logging in, who may be other than root: public, in a directory anyone
  // may pass through but not list (the private keys in it stay root's, mode 0600).
  fs.chmodSync(authorizedKeys, 0o644);
  fs.chmodSync(dir, 0o711);
  const sessionTmp = path.join(dir, "session-tmp");
  fs.mkdirSync(path.join(sessionTmp, path.basename(dir)), { recursive: true });
  fs.chmodSync(sessionTmp, 0o1777);
  const config = path.join(dir, "sshd_config");
  const logFile = path.join(dir, "sshd.log");
  fs.writeFileSync(config, [
    `ListenAddress ${address}`,
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    `PidFile ${path.join(dir, "sshd.pid")}`,
    "PrintMotd no",
    "PrintLastLog no",
    "LogLevel VERBOSE",
    "",
  ].join("\n"), { mode: 0o600 });
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory

  // Fixed program; the paths come as positional parameters.
  const program = [
    "set -e",
    ...(options.privateRun ? ["mount -t tmpfs -o mode=0755 cloudnet-machine-run /run", "mkdir -p /run/sshd"] : []),
    'mount --bind "$1" "$2/$(basename "$1")"',
    'mount --rbind "$2" /tmp',
    'exec /usr/sbin/sshd -D -f "$3" -E "$4"',
  ].join("\n");
  const proc = spawn("ip", ["netns", "exec", ns, "/bin/sh", "-c", program, "sh", dir, sessionTmp, config, logFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  let exited: string | undefined;
  proc.on("exit", (code, signal) => (exited = `exited with ${signal ?? code}`));
  const log = () => `${stderr}${fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""}`;

  const hostPublicKey = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const sshd: Sshd = { dir, clientKey, hostPublicKey, sessionTmp, address, port, process: proc, log };
  // Ready when this sshd (`ip netns exec` and sh exec it, so it keeps the pid) has written its pid
  // file, which it does once it listens, and the port answers with an SSH banner.
  const pidFile = path.join(dir, "sshd.pid");
  const ours = () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() === String(proc.pid);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited) throw new Error(`sshd ${exited} before accepting connections:\n${log()}`);
    const banner = ours() ? await readBanner(address, port, 1000) : undefined;
    if (banner?.startsWith("SSH-2.0-") && !exited) return sshd;
    await sleep(100);
  }
  await stopSshd(sshd);
  throw new Error(`sshd did not accept connections on ${address}:${port} after 100 attempts (10-110 s):\n${log()}`);
}

/** Stops the sshd (SIGTERM, then SIGKILL) and waits for it to exit; fine if it is gone already. */
export async function stopSshd(sshd: Sshd): Promise<void> {
  const proc = sshd.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5000).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    proc.kill("SIGKILL");
    await exited;
  }
}

/** True if a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The server's identification line, or undefined when nothing answers in time. */
function readBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = "";
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.includes("\n")) done(data.split(/\r?\n/)[0]);
    });
    socket.on("error", () => done(undefined));
    socket.on("close", () => done(data || undefined));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
