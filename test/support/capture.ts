import { spawn } from "child_process";

/**
 * How many frames matching the tcpdump `filter` (words, as tcpdump takes them) arrive on or leave
 * `dev` in `netns` while `during` runs; the capture is listening before `during` starts and drains
 * half a second after it ends. Without promiscuous mode, so the capture itself changes nothing.
 */
export async function framesSeen(netns: string, dev: string, filter: readonly string[], during: () => unknown): Promise<number> {
  const dump = spawn("ip", ["netns", "exec", netns, "tcpdump", "-i", dev, "-nn", "-l", "-p", ...filter], { stdio: ["ignore", "pipe", "pipe"] });
  let lines = 0;
  let started = false;
  dump.stdout.on("data", (d: Buffer) => { lines += d.toString().split("\n").filter(Boolean).length; });
  dump.stderr.on("data", (d: Buffer) => { if (d.toString().includes("listening on")) started = true; });
  for (let i = 0; i < 50 && !started; i++) await new Promise((r) => setTimeout(r, 100));
  if (!started) {
    dump.kill("SIGKILL");
    throw new Error(`tcpdump did not start on ${dev} in ${netns}`);
  }
  try {
    during();
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    dump.kill("SIGINT");
    await new Promise((r) => dump.on("exit", r));
  }
  return lines;
}
