import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { tapNamesXslt } from "../../lib/constructs/tap-names";
import { emulatedLab, guest, host, resolveOk, segment } from "./support/lab-specs";

/** A domain as libvirt writes it before the transform: two NICs, one with a target libvirt chose. */
const DOMAIN = (macs: string[]) => `<domain type="kvm"><name>vm1</name><devices>
<interface type="bridge"><mac address="${macs[0]}"/><source bridge="labb-a"/><model type="virtio"/></interface>
<interface type="bridge"><mac address="${macs[1]}"/><source bridge="labb-b"/><target dev="vnet7"/></interface>
<disk type="file"><target dev="vda"/></disk>
</devices></domain>`;

function transform(xslt: string, xml: string): string {
  if (!fs.existsSync("/usr/bin/xsltproc")) throw new Error("this test runs xsltproc: install it (apt-get install xsltproc, or npm test as root installs it)");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-xslt-"));
  try {
    fs.writeFileSync(path.join(dir, "t.xsl"), xslt);
    fs.writeFileSync(path.join(dir, "d.xml"), xml);
    return execFileSync("xsltproc", [path.join(dir, "t.xsl"), path.join(dir, "d.xml")], { encoding: "utf8" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("TAP names for libvirt VMs", () => {
  const lab = resolveOk(emulatedLab({
    hosts: [host("h1")],
    segments: [segment("a", "10.1.0.0/24"), segment("b", "10.2.0.0/24")],
    guests: [guest("vm1", "h1", [{ segment: "a" }, { segment: "b" }])],
  }));
  const nics = lab.guests[0].nics;
  const out = transform(tapNamesXslt(nics), DOMAIN(nics.map((n) => n.mac.toString())));

  it("names each interface's TAP after the lab's host-side device, matched by MAC", () => {
    expect(out).toMatch(new RegExp(`<mac address="${nics[0].mac}"/>[\\s\\S]*?<target dev="${nics[0].hostDev}"/>`));
    expect(out).toMatch(new RegExp(`<mac address="${nics[1].mac}"/>[\\s\\S]*?<target dev="${nics[1].hostDev}"/>`));
  });

  it("replaces a target libvirt chose and keeps everything else", () => {
    expect(out).not.toContain("vnet7");
    expect(out).toContain('<source bridge="labb-a"/>');
    expect(out).toContain('<model type="virtio"/>');
    expect(out).toContain('<target dev="vda"/>');
    expect(out.match(/<interface /g)).toHaveLength(2);
  });

  it("leaves an interface with another MAC alone", () => {
    const other = transform(tapNamesXslt(nics.slice(0, 1)), DOMAIN([nics[0].mac.toString(), "52:54:00:aa:bb:cc"]));
    expect(other).toContain("vnet7");
  });
});
