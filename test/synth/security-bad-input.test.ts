import { App, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { Backend, Compute, Lab, LabProps, Peer, Port, SecurityGroup, Target } from "../../lib";
import { expectFailsClosed, hooksOf, invalidLab, synthError, synthJson } from "../support/labs";

/**
 * Bad security group input through the constructs: synth fails closed (with or without cdktf's
 * validation) with `[stack/lab/<group or guest>] message`, one entry per mistake, before the lab
 * renders anything: no stage and no Terraform JSON.
 *
 * The base lab: emulated, h1, network app (10.20.0.0/24), groups web and db, web1 in web, db1 in db.
 */
interface Base {
  readonly lab: Lab;
  readonly web: SecurityGroup;
  readonly db: SecurityGroup;
}

function base(scope: Construct, props: LabProps = {}): Base {
  const lab = new Lab(scope, "lab", props);
  const h1 = lab.addHost("h1");
  const app = lab.addSegment("app", { cidr: "10.20.0.0/24" });
  const web = lab.addSecurityGroup("web");
  const db = lab.addSecurityGroup("db");
  db.connections.allowFrom(web, Port.tcp(3306));
  lab.addGuest("web1", { host: h1, nics: [{ segment: app, address: "10.20.0.11" }], securityGroups: [web] });
  lab.addGuest("db1", { host: h1, nics: [{ segment: app, address: "10.20.0.21" }], securityGroups: [db] });
  return { lab, web, db };
}

interface Case {
  readonly what: string;
  readonly build: (scope: Construct) => void;
  /** Construct path under `stack/` and the message there. */
  readonly path: string;
  readonly message: string;
}

const DESCRIPTION_RULE = "may only hold letters, digits, spaces and _ . , : ; / = + @ ( ) # % - (at most 255), so it can never reach a shell or the rule text.";
const onDb = (f: (b: Base) => void) => (scope: Construct) => f(base(scope));

const CASES: Case[] = [
  {
    what: "a CIDR without a mask",
    build: onDb(({ db }) => db.addIngressRule(Peer.ipv4("203.0.113.10"), Port.tcp(22))),
    path: "lab/SecurityGroups/db",
    message: "ingress rule 203.0.113.10 tcp/22: CIDR mask is missing in '203.0.113.10'. Did you mean '203.0.113.10/32'?",
  },
  {
    what: "a CIDR with host bits set",
    build: onDb(({ db }) => db.addIngressRule(Peer.ipv4("203.0.113.10/24"), Port.tcp(22))),
    path: "lab/SecurityGroups/db",
    message: "ingress rule 203.0.113.10/24 tcp/22: '203.0.113.10/24' has host bits set. Did you mean '203.0.113.0/24'?",
  },
  {
    what: "Peer.ipv4 given an IPv6 CIDR",
    build: onDb(({ db }) => db.addIngressRule(Peer.ipv4("2001:db8::/32"), Port.tcp(22))),
    path: "lab/SecurityGroups/db",
    message: "ingress rule 2001:db8::/32 tcp/22: '2001:db8::/32' is an IPv6 CIDR; use Peer.ipv6('2001:db8::/32').",
  },
  {
    what: "a port out of range",
    build: onDb(({ web }) => web.addIngressRule(Peer.anyIpv4(), Port.tcp(70000))),
    path: "lab/SecurityGroups/web",
    message: "ingress rule 0.0.0.0/0 tcp/70000: port 70000 is out of range: a port is 1-65535.",
  },
  {
    what: "a range with from > to",
    build: onDb(({ web }) => web.addIngressRule(Peer.anyIpv4(), Port.tcpRange(8080, 8000))),
    path: "lab/SecurityGroups/web",
    message: "ingress rule 0.0.0.0/0 tcp/8080-8000: port range 8080-8000 is reversed; did you mean Port.tcpRange(8000, 8080)?",
  },
  {
    what: "an ICMP type out of range",
    build: onDb(({ web }) => web.addIngressRule(Peer.anyIpv4(), Port.icmpType(300))),
    path: "lab/SecurityGroups/web",
    message: "ingress rule 0.0.0.0/0 icmp/300: ICMP type 300 is out of range 0-255.",
  },
  {
    what: "an ICMP code out of range",
    build: onDb(({ web }) => web.addIngressRule(Peer.anyIpv4(), Port.icmpTypeAndCode(3, 256))),
    path: "lab/SecurityGroups/web",
    message: "ingress rule 0.0.0.0/0 icmp/3:256: ICMP code 256 is out of range 0-255.",
  },
  {
    what: "ICMP with an IPv6 peer",
    build: onDb(({ web }) => web.addIngressRule(Peer.anyIpv6(), Port.icmpType(8))),
    path: "lab/SecurityGroups/web",
    message: "ingress rule ::/0 icmp/8: icmp cannot match an IPv6 peer; use Port.icmpv6Type.",
  },
  {
    what: "ICMPv6 with an IPv4 peer",
    build: onDb(({ web }) => web.addEgressRule(Peer.ipv4("10.0.0.0/8"), Port.icmpv6Type(128))),
    path: "lab/SecurityGroups/web",
    message: "egress rule 10.0.0.0/8 icmpv6/128: icmpv6 cannot match an IPv4 peer; use Port.icmpType.",
  },
  ...[
    ["a double quote", "ssh\" -j ACCEPT \""],
    ["command substitution", "$(reboot)"],
    ["backticks", "`reboot`"],
    ["a newline", "ssh\n-A FORWARD -j ACCEPT"],
  ].map(([what, d]): Case => ({
    what: `a description with ${what}`,
    build: onDb(({ db }) => db.addIngressRule(Peer.anyIpv4(), Port.tcp(22), d)),
    path: "lab/SecurityGroups/db",
    message: `ingress rule 0.0.0.0/0 tcp/22: description '${d}' ${DESCRIPTION_RULE}`,
  })),
  {
    what: "a description over 255 characters",
    build: onDb(({ db }) => db.addIngressRule(Peer.anyIpv4(), Port.tcp(22), "d".repeat(256))),
    path: "lab/SecurityGroups/db",
    message: `ingress rule 0.0.0.0/0 tcp/22: description '${"d".repeat(60)}' ${DESCRIPTION_RULE}`,
  },
  {
    what: "a security group name that is not an identifier",
    build: onDb(({ lab }) => lab.addSecurityGroup("Web_SG")),
    path: "lab/SecurityGroups/Web_SG",
    message: "security group name 'Web_SG' is not allowed: use 1-32 characters of a-z, 0-9 and '-', starting with a letter. Did you mean 'web-sg'?",
  },
  {
    what: "a security group on a container of a real-hosts lab",
    build: (scope) => {
      const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
      const h1 = lab.addHost("h1", { target: Target.ssh({ host: "192.0.2.10" }), underlayAddress: "192.0.2.10" });
      const app = lab.addSegment("app", { cidr: "10.20.0.0/24" });
      const web = lab.addSecurityGroup("web");
      lab.addGuest("c1", { host: h1, compute: Compute.container(), nics: [{ segment: app }], securityGroups: [web] });
    },
    path: "lab/c1",
    message: "security groups on real-host containers are not supported: Docker names their host-side veths at random, so no rule can match them; put the guest on an emulated lab or use a VM.",
  },
];

/** The labs a build made (found in the tree of a fresh stack). */
function labsOf(build: (scope: Construct) => void): Lab[] {
  const stack = new TerraformStack(new App(), "stack");
  build(stack);
  return stack.node.findAll().filter((c): c is Lab => Lab.isLab(c));
}

const stagesOf = (lab: Lab) => lab.node.tryFindChild("Stages");

const OTHER_LAB_WEB_5432 = "[stack/lab/SecurityGroups/db] ingress rule group web tcp/5432: group 'web' belongs to lab stack/other, not to this lab (stack/lab); a rule can only name groups of its own lab.";

/** terraform_data of the lab `id` (logical ids start with the construct path below the stack). */
const hooksOfLab = (json: any, id: string) => Object.keys(hooksOf(json)).filter((k) => k.startsWith(`${id}_`));

describe("bad security group input fails synth at its construct, and renders nothing", () => {
  it("the base lab itself is valid and renders its hooks", () => {
    expect(synthError((s) => base(s))).toBeUndefined();
    // One firewall stage (the rules) for the one host with guarded NICs, and its owner and converge.
    const hooks = hooksOfLab(synthJson((s) => base(s)), "lab");
    expect(hooks.filter((k) => k.startsWith("lab_Stages_firewall"))).toHaveLength(1);
    expect(hooks.filter((k) => k.startsWith("lab_Stages_firewall_h1_"))).toHaveLength(1);
    expect(hooks.filter((k) => /^lab_Stages_(owner|converge)_h1_/.test(k))).toHaveLength(2);
  });

  it.each(CASES.map((c) => [c.what, c] as const))("%s", (_, c) => {
    expectFailsClosed(c.build, invalidLab(`[stack/${c.path}] ${c.message}`));
  });

  it("an invalid lab gets no stages: its aspect throws before rendering (the valid base lab does get them)", () => {
    const [valid] = labsOf((s) => base(s));
    expect(() => Testing.synth(valid.node.scope as TerraformStack)).not.toThrow();
    expect(stagesOf(valid)).toBeDefined();
    const [invalid] = labsOf(CASES[0].build);
    expect(() => Testing.synth(invalid.node.scope as TerraformStack)).toThrow(new Error(invalidLab(`[stack/${CASES[0].path}] ${CASES[0].message}`)));
    expect(stagesOf(invalid)).toBeUndefined();
  });

  it("a rule naming a group of another lab (the other lab is fine; synth still fails, so nothing is written)", () => {
    const build = (scope: Construct) => {
      const other = new Lab(scope, "other");
      const foreignWeb = other.addSecurityGroup("web");
      base(scope).db.addIngressRule(foreignWeb, Port.tcp(5432));
    };
    // Only this lab's rule is reported; the other lab has no issue of its own.
    expectFailsClosed(build, invalidLab(OTHER_LAB_WEB_5432));
    const [other, lab] = labsOf(build);
    expect(other.resolve().issues).toEqual([]);
    expect(other.resolve().lab).toBeDefined();
    expect(lab.resolve().issues.map((i) => `[${i.path}] ${i.message}`)).toEqual([OTHER_LAB_WEB_5432]);
  });

  it("a rule naming a group of another lab is reported even when the same rule names a local namesake", () => {
    // Regression (fixed): lib/constructs/security-group.ts:86 (SecurityGroup.add) — rules are de-duplicated by `${peerText(peer)}|${port}`,
    // and peerText of a group is only `group <name>`: a rule naming `other`'s group 'web' after one
    // naming this lab's 'web' (same port) is dropped as a duplicate, so the cross-lab mistake is never
    // reported (in the other order the local rule is dropped instead and the error does appear).
    // Repro: db.addIngressRule(web, Port.tcp(3306)); db.addIngressRule(otherLabWeb, Port.tcp(3306));
    // synth passes. Fix: include the peer's lab in the de-duplication key for group peers, e.g.
    // `${peer.peerSpec.kind === "group" ? peer.peerSpec.lab + "/" : ""}${peerText(peer.peerSpec)}|${port}`.
    const build = (scope: Construct) => {
      const other = new Lab(scope, "other");
      const foreignWeb = other.addSecurityGroup("web");
      const { db, web } = base(scope);
      db.addIngressRule(web, Port.tcp(3306));
      db.addIngressRule(foreignWeb, Port.tcp(3306));
    };
    expectFailsClosed(build, invalidLab("[stack/lab/SecurityGroups/db] ingress rule group web tcp/3306: group 'web' belongs to lab stack/other, not to this lab (stack/lab); a rule can only name groups of its own lab."));
  });

  it("connections across labs: both sides report their own rule", () => {
    const build = (scope: Construct) => {
      const other = new Lab(scope, "other");
      const foreignWeb = other.addSecurityGroup("web");
      base(scope).db.connections.allowFrom(foreignWeb, Port.tcp(5432));
    };
    const otherLine = "[stack/other/SecurityGroups/web] egress rule group db tcp/5432: group 'db' belongs to lab stack/lab, not to this lab (stack/other); a rule can only name groups of its own lab.";
    // Each lab holds its own side of the connection as its only issue.
    const [other, lab] = labsOf(build);
    expect(other.resolve().issues.map((i) => `[${i.path}] ${i.message}`)).toEqual([otherLine]);
    expect(lab.resolve().issues.map((i) => `[${i.path}] ${i.message}`)).toEqual([OTHER_LAB_WEB_5432]);
    // Synth stops at the first invalid lab in the tree (`other`, added first) and lists every lab's issues.
    expectFailsClosed(build, invalidLab(otherLine, OTHER_LAB_WEB_5432));
  });

  it("a guest joining a group of another lab that has a namesake here", () => {
    // Regression (fixed): lib/constructs/nodes.ts:208 (guestSpec) keeps only `g.node.id` of each group, so a guest of lab
    // `lab` given `other`'s group `web` silently joins `lab`'s own `web` and gets its rules. Repro: two
    // labs each with a group 'web'; lab.addGuest('g1', { ..., securityGroups: [otherLabWeb] }) synthesizes
    // without error. Fix: carry the group's lab path into GuestSpec (e.g. securityGroups as PeerSpec-like
    // { group, lab }) and report in resolveSecurityGroups, at the guest:
    // "guest 'g1' joins security group 'web' of lab stack/other; a guest can only join groups of its own lab (stack/lab)."
    const build = (scope: Construct) => {
      const other = new Lab(scope, "other");
      const foreignWeb = other.addSecurityGroup("web");
      const { lab } = base(scope);
      lab.addGuest("g1", { host: "h1", nics: [{ segment: "app", address: "10.20.0.31" }], securityGroups: [foreignWeb] });
    };
    expectFailsClosed(build, invalidLab("[stack/lab/g1] guest 'g1' joins security group 'web' of lab stack/other; a guest can only join groups of its own lab (stack/lab)."));
  });

  it("a group name used twice in a lab is refused when it is added; a guest's name is free for a group", () => {
    const b = base(new TerraformStack(new App(), "stack"));
    expect(() => b.lab.addSecurityGroup("web")).toThrow("[stack/lab/SecurityGroups/web] security group name 'web' is already used by security group stack/lab/SecurityGroups/web in lab stack/lab; choose another name, or set { name } to name it apart from its construct id.");
    expect(b.lab.addSecurityGroup("web1").node.path).toBe("stack/lab/SecurityGroups/web1");
  });
});
