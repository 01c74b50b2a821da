import { CHUNK_BYTES, LocalExec, SCRIPT_VAR, hookFor, launcher, scriptEnvironment } from "../../lib/targets";
import { renderLab } from "../../lib/render";
import { demoSpec, emulatedLab, host, resolveOk } from "./support/lab-specs";
import { readTerraformLiteral } from "./support/terraform-template";
import { runBash } from "./support/bash";

/** A bash script of exactly `length` characters that counts its lines and prints the count. */
function countingScript(length: number): { script: string; lines: number } {
  const body: string[] = ["n=0"];
  let size = 4;
  while (size < length - 200) {
    const line = `n=$((n+1)) # \${HOME} %{x} $\${y}`;
    body.push(line);
    size += line.length + 1;
  }
  const tail = `echo "$n"\n`;
  let script = `${body.join("\n")}\n`;
  script += `#${"p".repeat(length - script.length - tail.length - 2)}\n${tail}`;
  return { script, lines: body.length - 1 };
}

describe("scriptEnvironment", () => {
  it("puts a short script in one variable, escaped for Terraform", () => {
    expect(scriptEnvironment("echo ${HOME} %{x}\n")).toEqual({ [`${SCRIPT_VAR}0`]: "echo $${HOME} %%{x}\n" });
  });

  it("gives an empty script one empty chunk", () => {
    expect(scriptEnvironment("")).toEqual({ [`${SCRIPT_VAR}0`]: "" });
  });

  it("splits a 250,000-character script into 3 chunks that join back to it", () => {
    const { script } = countingScript(250_000);
    expect(script).toHaveLength(250_000);
    const env = scriptEnvironment(script);
    expect(Object.keys(env)).toEqual([`${SCRIPT_VAR}0`, `${SCRIPT_VAR}1`, `${SCRIPT_VAR}2`]);
    const decoded = Object.values(env).map((v) => readTerraformLiteral(v));
    expect(decoded.every((d) => d !== undefined)).toBe(true);
    expect(decoded.map((d) => d!.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 50_000]);
    expect(decoded.join("")).toBe(script);
  });

  it("keeps every chunk under the kernel's 128 KiB limit for one environment string, even after escaping", () => {
    const env = scriptEnvironment("${".repeat(150_000));
    expect(Object.keys(env)).toHaveLength(3);
    for (const [k, v] of Object.entries(env)) expect(Buffer.byteLength(`${k}=${readTerraformLiteral(v)}`)).toBeLessThan(128 * 1024);
  });

  it("refuses a non-ASCII script", () => {
    expect(() => scriptEnvironment("echo é\n")).toThrow("host scripts must be ASCII");
  });
});

/** Runs a launcher the way Terraform would: template read, script chunks in the environment. */
function launch(command: string, script: string) {
  const env = Object.fromEntries(Object.entries(scriptEnvironment(script)).map(([k, v]) => [k, readTerraformLiteral(v)!]));
  return runBash(readTerraformLiteral(command)!, env);
}

describe("launcher", () => {
  it("joins the chunks in order and runs the whole script with bash", () => {
    const { script, lines } = countingScript(250_000);
    const r = launch(launcher([]), script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${lines}\n`);
  });

  it("returns the script's exit status", () => {
    expect(launch(launcher([]), "exit 7\n").status).toBe(7);
  });

  it("with skipIfNetnsGone, succeeds without running the script when the namespace does not exist", () => {
    const r = launch(launcher([], { skipIfNetnsGone: "zzunit-gone" }), "echo RAN; exit 3\n");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("namespace zzunit-gone is gone, nothing to remove");
  });

  it("contains no lab data: every controller stage of any lab runs the same command, apply and destroy", () => {
    const commands = [demoSpec(), emulatedLab({ name: "other", prefix: "zz", hosts: [host("x1")] })].flatMap((spec) => {
      const lab = resolveOk(spec);
      return renderLab(lab)
        .filter((s) => s.runOn.kind === "controller")
        .flatMap((s) => (hookFor(lab, s).provisioners as LocalExec[]).map((p) => p.command));
    });
    expect(commands.length).toBeGreaterThan(10);
    expect(new Set(commands)).toEqual(new Set([launcher([])]));
    for (const word of ["demo", "h1", "web", "blue", "10.10", "198.18", "other", "zz"]) expect(launcher([])).not.toContain(word);
  });

  it("adds the runner words in front of bash and nothing else", () => {
    const bare = readTerraformLiteral(launcher([]))!.split("\n");
    const inNs = readTerraformLiteral(launcher(["ip", "netns", "exec", "demo-h1"]))!.split("\n");
    expect(inNs.slice(0, -1)).toEqual(bare.slice(0, -1));
    expect(inNs[inNs.length - 1]).toBe(`ip netns exec demo-h1 ${bare[bare.length - 1]}`);
  });
});
