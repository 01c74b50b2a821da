import { Backend, Compute, Lab, LabProps, Target } from "../../lib";
import { expectFailsClosed, invalidLab, synthJson } from "../support/labs";

/**
 * Each case builds a lab with one mistake. Synth fails closed: the lab's aspect throws, with or
 * without cdktf's validation, with exactly one `[path] message` at the construct that holds the
 * mistake, and nothing at all is rendered for the lab (no stage, no Terraform JSON).
 */
interface Case {
  readonly what: string;
  readonly build: (lab: Lab) => void;
  readonly props?: LabProps;
  /** Construct path (under `stack/`) and the message expected there. */
  readonly path: string;
  readonly message: string;
}

const sshTo = (host: string, extra = {}) => ({ target: Target.ssh({ host, ...extra }), underlayAddress: host });

const CASES: Case[] = [
  {
    what: "host name that would run a command",
    build: (lab) => lab.addHost("a;reboot"),
    path: "lab/a;reboot",
    message: "host name 'a;reboot' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'a-reboot'?",
  },
  {
    what: "guest name with command substitution",
    build: (lab) => { lab.addHost("h1"); lab.addGuest("$(id)", { host: "h1" }); },
    path: "lab/$(id)",
    message: "guest name '$(id)' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'id'?",
  },
  {
    what: "segment name with a space",
    build: (lab) => lab.addSegment("x y", { cidr: "10.0.0.0/24" }),
    path: "lab/Segments/x y",
    message: "segment name 'x y' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'x-y'?",
  },
  {
    what: "lab name with backquotes",
    props: { name: "h1`whoami`" },
    build: (lab) => lab.addHost("h1"),
    path: "lab",
    message: "lab name 'h1`whoami`' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'h1-whoami'?",
  },
  {
    what: "invalid prefix",
    props: { prefix: "Lab-1" },
    build: (lab) => lab.addHost("h1"),
    path: "lab",
    message: "prefix 'Lab-1' is invalid: use 1-6 characters of a-z and 0-9, starting with a letter, e.g. 'lab1'.",
  },
  {
    what: "emulated host with an SSH target",
    build: (lab) => lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }) }),
    path: "lab/h1",
    message: "host 'h1' has a 'ssh' target, but the lab's backend is emulated; remove the target or use Backend.hosts().",
  },
  {
    what: "real host without target",
    props: { backend: Backend.hosts() },
    build: (lab) => lab.addHost("h1", { underlayAddress: "192.0.2.10" }),
    path: "lab/h1",
    message: "host 'h1' has no target: give it target: Target.ssh({ host: '192.0.2.10' }) or Target.local().",
  },
  {
    what: "real host without underlay address",
    props: { backend: Backend.hosts() },
    build: (lab) => lab.addHost("h1", { target: Target.local() }),
    path: "lab/h1",
    message: "host 'h1' needs underlayAddress: the address other hosts reach it at for VXLAN, e.g. '192.0.2.10'.",
  },
  {
    what: "SSH port out of range",
    props: { backend: Backend.hosts() },
    build: (lab) => lab.addHost("h1", sshTo("192.0.2.10", { port: 70000 })),
    path: "lab/h1",
    message: "SSH port 70000 is out of range 1-65535.",
  },
  {
    what: "CIDR without mask",
    build: (lab) => lab.addSegment("blue", { cidr: "10.10.0.1" }),
    path: "lab/Segments/blue",
    message: "CIDR mask is missing in '10.10.0.1'. Did you mean '10.10.0.1/32'?",
  },
  {
    what: "CIDR with host bits",
    build: (lab) => lab.addSegment("blue", { cidr: "10.10.0.1/24" }),
    path: "lab/Segments/blue",
    message: "'10.10.0.1/24' has host bits set. Did you mean '10.10.0.0/24'?",
  },
  {
    what: "VNI above 16,777,215",
    build: (lab) => lab.addSegment("blue", { cidr: "10.10.0.0/24", vni: 16_777_216 }),
    path: "lab/Segments/blue",
    message: "VNI 16777216 is out of range: a VXLAN network identifier is 1-16,777,215.",
  },
  {
    what: "duplicate VNI",
    build: (lab) => { lab.addSegment("red", { cidr: "10.1.0.0/24", vni: 7 }); lab.addSegment("blue", { cidr: "10.2.0.0/24", vni: 7 }); },
    path: "lab/Segments/blue",
    message: "VNI 7 is already used by stack/lab/Segments/red; give each segment its own VNI or leave it out to allocate one.",
  },
  {
    what: "MTU too small after encapsulation",
    build: (lab) => lab.addSegment("blue", { cidr: "fd00::/64", underlayMtu: 600 }),
    path: "lab/Segments/blue",
    message: "MTU 550 after VXLAN encapsulation (600 - 50) is below 1280, the minimum for IPv6; raise underlayMtu to at least 1330.",
  },
  {
    what: "guest address outside its segment",
    build: (lab) => {
      const h1 = lab.addHost("h1");
      const blue = lab.addSegment("blue", { cidr: "10.10.0.0/24" });
      lab.addGuest("web", { host: h1, nics: [{ segment: blue, address: "10.20.0.5" }] });
    },
    path: "lab/web",
    message: "address 10.20.0.5 of NIC 0 is outside segment 'blue' (10.10.0.0/24); pick a host address inside it or leave address out.",
  },
  {
    what: "two guests with the same static address",
    build: (lab) => {
      const h1 = lab.addHost("h1");
      const blue = lab.addSegment("blue", { cidr: "10.10.0.0/24" });
      lab.addGuest("db", { host: h1, nics: [{ segment: blue, address: "10.10.0.11" }] });
      lab.addGuest("web", { host: h1, nics: [{ segment: blue, address: "10.10.0.11" }] });
    },
    path: "lab/web",
    message: "address 10.10.0.11 of NIC 0 is already used by stack/lab/db on segment 'blue'.",
  },
  {
    what: "guest on a host that is not in the lab",
    build: (lab) => lab.addGuest("web", { host: "h9" }),
    path: "lab/web",
    message: "guest 'web' is placed on host 'h9', which is not in the lab; add it with lab.addHost('h9').",
  },
  {
    what: "NIC on a segment that is not in the lab",
    build: (lab) => { lab.addHost("h1"); lab.addGuest("web", { host: "h1", nics: [{ segment: "green" }] }); },
    path: "lab/web",
    message: "NIC 0 joins segment 'green', which is not in the lab; add it with lab.addSegment('green', { cidr: ... }).",
  },
  {
    what: "multicast MAC",
    build: (lab) => {
      lab.addHost("h1");
      lab.addSegment("blue", { cidr: "10.10.0.0/24" });
      lab.addGuest("web", { host: "h1", nics: [{ segment: "blue", mac: "01:00:5e:00:00:01" }] });
    },
    path: "lab/web",
    message: "'01:00:5e:00:00:01' is a multicast MAC address; a NIC needs a unicast one (even first byte).",
  },
  {
    what: "container image with a shell command",
    build: (lab) => { lab.addHost("h1"); lab.addGuest("web", { host: "h1", compute: Compute.container({ image: "nginx;reboot" }) }); },
    path: "lab/web",
    message: "container image 'nginx;reboot' is not an image reference such as 'nginx:1.27'.",
  },
  {
    what: "VM key with a second line",
    build: (lab) => {
      lab.addHost("h1");
      lab.addGuest("vm1", { host: "h1", compute: Compute.vm({ image: "/img/debian.qcow2", sshPublicKey: "ssh-ed25519 AAAA\nruncmd: [reboot]" }) });
    },
    path: "lab/vm1",
    message: "sshPublicKey is not one line of an OpenSSH public key ('ssh-ed25519 AAAA... comment').",
  },
];

describe("bad input fails synth at the construct that holds it, and renders nothing", () => {
  it("covers at least 12 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  it("without a mistake the lab renders: its stages exist and the JSON holds its hooks (the control for the checks below)", () => {
    let lab: Lab | undefined;
    const json = synthJson((scope) => { lab = new Lab(scope, "lab"); lab.addHost("h1"); });
    expect(lab!.node.tryFindChild("Stages")).toBeDefined();
    expect(Object.keys(json.resource.terraform_data).length).toBeGreaterThan(0);
  });

  it.each(CASES.map((c) => [c.what, c] as const))("%s", (_, c) => {
    // One mistake, one message: exactly this `[path] message` line, and no skipValidation hint; with
    // or without cdktf's validation, and nothing rendered.
    expectFailsClosed((scope) => c.build(new Lab(scope, "lab", c.props)), invalidLab(`[stack/${c.path}] ${c.message}`));
  });
});
