import { InvalidValueError, heredoc, sh, shellWord } from "../../lib/net";
import { runBash } from "./support/bash";

describe("shellWord", () => {
  it.each(["demob-blue", "10.10.0.11/24", "52:54:00:ab:cd:ef", "fd00::a", "/run/cloudnet/labs/demo.json", "a_b+c=d,e@f%g"])(
    "passes the safe word '%s' through unchanged",
    (word) => {
      expect(shellWord(word)).toBe(word);
    },
  );

  it("accepts numbers", () => {
    expect(shellWord(1450)).toBe("1450");
  });

  it.each(["a;reboot", "$(id)", "x y", "`whoami`", "a|b", "a&b", "a>b", "'q'", "\"q\"", "a\nb", "", "*", "~root", "a#b"])(
    "refuses %j and lists the allowed characters",
    (text) => {
      expect(() => shellWord(text)).toThrow(InvalidValueError);
      expect(() => shellWord(text)).toThrow(`'${text}' cannot be placed in a host script: only A-Z a-z 0-9 _ . : / @ % + = , - are allowed.`);
    },
  );
});

describe("sh", () => {
  it("interpolates safe words into a command line", () => {
    const dev = "demob-blue";
    expect(sh`ip link add ${dev} mtu ${1450} type bridge`).toBe("ip link add demob-blue mtu 1450 type bridge");
  });

  it("refuses an unsafe interpolated value instead of quoting it", () => {
    const dev = "x; reboot";
    expect(() => sh`ip link del ${dev}`).toThrow(InvalidValueError);
  });

  it("leaves the literal parts of the template alone", () => {
    expect(sh`if cn_link_missing ${"eth0"}; then echo "$HOME"; fi`).toBe("if cn_link_missing eth0; then echo \"$HOME\"; fi");
  });
});

describe("heredoc", () => {
  it("uses a quoted tag so bash expands nothing in the payload", () => {
    const payload = "x $(id) `id` ${HOME} $HOME \\ ' \" %{y}\nsecond line";
    const script = heredoc("cat", payload);
    expect(script.split("\n")[0]).toBe("cat <<'CLOUDNET_EOF'");
    const r = runBash(script);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${payload}\n`);
  });

  it("does not add a second newline when the payload ends with one", () => {
    expect(heredoc("cat", "a\n")).toBe("cat <<'CLOUDNET_EOF'\na\nCLOUDNET_EOF");
  });

  it("refuses a payload with a line equal to the terminator", () => {
    expect(() => heredoc("cat", "a\nCLOUDNET_EOF\nrm -rf /")).toThrow("payload contains the heredoc terminator 'CLOUDNET_EOF'.");
  });

  it("accepts the terminator inside a longer line, where it cannot end the heredoc", () => {
    const payload = "x CLOUDNET_EOF y\nCLOUDNET_EOFx";
    expect(runBash(heredoc("cat", payload)).stdout).toBe(`${payload}\n`);
  });
});
