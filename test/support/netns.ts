import * as fs from "fs";
import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";

/** A short unique lab prefix for one test file (a-z0-9, starts with a letter, <= 6 chars). */
export function uniquePrefix(letter = "t"): string {
  return letter + randomBytes(3).toString("hex").slice(0, 5);
}

/** Runs a command, returns stdout; throws with stderr on failure. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args as string[], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs a command and returns its exit status and output, never throws. */
export function tryRun(cmd: string, args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args as string[], { encoding: "utf8", input });
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function listNetns(): string[] {
  return run("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}

/** Namespaces whose name starts with `${prefix}-`. */
export function netnsWithPrefix(prefix: string): string[] {
  return listNetns().filter((n) => n.startsWith(`${prefix}-`));
}

/** Kills every process in the namespace and deletes it; fine if it is already gone. */
export function deleteNetns(name: string): void {
  const pids = tryRun("ip", ["netns", "pids", name]).stdout.split("\n").filter(Boolean);
  for (const pid of pids) tryRun("kill", ["-9", pid]);
  tryRun("ip", ["netns", "del", name]);
}

/**
 * Removes everything a test created under its prefix, also after a failure half-way: its
 * namespaces, its lab's inventory, its state and its hold on the helper library under /run/cloudnet
 * (held settings are dropped, not restored: their namespaces are gone). Call from afterAll / finally.
 */
export function cleanupPrefix(prefix: string): void {
  const root = "/run/cloudnet";
  // Emulated hosts' Open vSwitch daemons first: a process would keep its namespace alive.
  const ovs = `${root}/ovs`;
  if (fs.existsSync(ovs)) {
    for (const dir of fs.readdirSync(ovs).filter((d) => d.startsWith(`${prefix}-`))) {
      for (const pidFile of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
        try { process.kill(Number(fs.readFileSync(`${ovs}/${dir}/${pidFile}`, "utf8").trim()), "SIGKILL"); } catch { /* not running */ }
      }
      fs.rmSync(`${ovs}/${dir}`, { recursive: true, force: true });
    }
  }
  // Emulated hosts' BGP speakers (BIRD), for the same reason.
  const bird = `${root}/bird`;
  if (fs.existsSync(bird)) {
    for (const dir of fs.readdirSync(bird).filter((d) => d.startsWith(`${prefix}-`))) {
      for (const pidFile of fs.readdirSync(`${bird}/${dir}`).filter((f) => f.endsWith(".pid"))) {
        try { process.kill(Number(fs.readFileSync(`${bird}/${dir}/${pidFile}`, "utf8").trim()), "SIGKILL"); } catch { /* not running */ }
      }
      fs.rmSync(`${bird}/${dir}`, { recursive: true, force: true });
    }
  }
  for (const ns of netnsWithPrefix(prefix)) deleteNetns(ns);
  fs.rmSync(`${root}/labs/${prefix}.json`, { force: true });
  // Traffic control's record of the batch each device was built from (named after the lab's devices).
  const tc = `${root}/tc`;
  if (fs.existsSync(tc)) {
    for (const f of fs.readdirSync(tc).filter((d) => d.startsWith(prefix))) fs.rmSync(`${tc}/${f}`, { force: true });
    if (fs.readdirSync(tc).length === 0) fs.rmdirSync(tc);
  }
  const state = `${root}/state`;
  if (fs.existsSync(state)) {
    for (const scope of fs.readdirSync(state)) {
      if (scope.startsWith(`${prefix}-`)) { fs.rmSync(`${state}/${scope}`, { recursive: true, force: true }); continue; }
      for (const entry of fs.readdirSync(`${state}/${scope}`)) {
        if (entry.endsWith(`@${prefix}`)) fs.rmSync(`${state}/${scope}/${entry}`, { force: true });
        const holder = `${state}/${scope}/${entry}/${prefix}`;
        if (fs.existsSync(holder)) fs.rmSync(holder, { force: true });
      }
    }
  }
  // The lab's hold on the helper library (per lab, or per lab and host), under the library stage's
  // lock; the file goes with its last holder.
  tryRun("flock", ["-w", "60", "/run", "bash", "-c", [
    "cd /run/cloudnet/lib 2>/dev/null || exit 0",
    'for h in *.holders; do [ -d "$h" ] || continue; rm -f "$h/$1" "$h/$1@"*; if rmdir "$h" 2>/dev/null; then rm -f "${h%.holders}.sh" ".${h%.holders}."*; fi; done',
  ].join("\n"), "cleanup", prefix]);
  const lib = `${root}/lib`;
  // Directories the lab's stages made, once no other lab uses them (as converge's rmdir does).
  for (const dir of [`${root}/labs`, state, lib, ovs, bird, root]) {
    try { fs.rmdirSync(dir); } catch { /* absent, or another lab's files are there */ }
  }
}

/** Runs a command inside a namespace. */
export function nsExec(ns: string, cmd: string, args: readonly string[] = [], input?: string) {
  return tryRun("ip", ["netns", "exec", ns, cmd, ...args], input);
}

/** True if `ns` can ping `address` once within 2 s. */
export function canPing(ns: string, address: string): boolean {
  return nsExec(ns, "ping", ["-c", "1", "-W", "2", address]).status === 0;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
