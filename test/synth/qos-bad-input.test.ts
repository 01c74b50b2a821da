import { Construct } from "constructs";
import { Lab, QosPolicy, Rate } from "../../lib";
import { expectFailsClosed, invalidLab, synthJson } from "../support/labs";

/**
 * QoS policies through the constructs: bad input fails closed at synth with the construct path, the
 * value and the limit or the fix; a good tree renders one tc batch per shaped device.
 */
function base(scope: Construct): { lab: Lab; policy: QosPolicy } {
  const lab = new Lab(scope, "lab");
  lab.addHost("h1");
  const net = lab.addTenant("t").addNetwork("net", { cidr: "10.0.0.0/24" });
  const g = lab.addGuest("g1", { host: "h1", nics: [{ segment: net, address: "10.0.0.10" }] });
  const policy = lab.addQosPolicy("p", { rate: Rate.mbit(100) });
  policy.applyTo(g, { direction: "ingress" });
  return { lab, policy };
}

const CASES: Array<{ what: string; build: (scope: Construct) => void; line: string }> = [
  {
    what: "children whose rates add up above the parent's",
    build: (scope) => {
      const { policy } = base(scope);
      policy.addClass("a", { rate: Rate.mbit(70) });
      policy.setDefault(policy.addClass("b", { rate: Rate.mbit(40) }));
    },
    line: "[stack/lab/QosPolicies/p/root] class 'root': its children's rates add up to 110Mbit, above its own rate 100Mbit, so their guarantees cannot all hold; lower them, raise its rate, or allow it with oversubscribe: true.",
  },
  {
    what: "a ceil below the rate",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), ceil: Rate.mbit(20) }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] class 'a': ceil 20Mbit is below its rate 30Mbit; a class may borrow up to its ceil, never below its guarantee: raise ceil to at least 30Mbit.",
  },
  {
    what: "a ceil above the parent's",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), ceil: Rate.mbit(200) }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] class 'a': ceil 200Mbit is above its parent's ceil 100Mbit, which it can never get; lower it to at most 100Mbit.",
  },
  {
    what: "a quantum set by hand outside 1,500-60,000",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), quantum: 100 }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] class 'a': quantum 100 bytes is out of range 1,500-60,000, where HTB shares precisely; leave it out to have it follow the rate.",
  },
  {
    what: "a burst below rate/HZ",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), burst: 2000 }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] class 'a': burst 2000 bytes is below what 30Mbit sends in one tick (15000 bytes at HZ 250); raise it or leave it out.",
  },
  {
    what: "a prio out of range",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), prio: 9 }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] class 'a': prio 9 is out of range 0-7.",
  },
  {
    what: "no default class",
    build: (scope) => {
      const { policy } = base(scope);
      policy.addClass("a", { rate: Rate.mbit(30) });
    },
    line: "[stack/lab/QosPolicies/p] policy 'p': default class '' is not one of its classes (root, a); name the leaf that unmatched traffic goes to.",
  },
  {
    what: "a port match without tcp or udp (can never match as meant)",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }).addMatch({ destinationPort: 80 }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] match destinationPort 80 needs protocol tcp or udp: without it, the filter could never match as meant.",
  },
  {
    what: "a match shadowed by an earlier one",
    build: (scope) => {
      const { policy } = base(scope);
      policy.addClass("a", { rate: Rate.mbit(30) }).addMatch({ protocol: "tcp" });
      policy.setDefault(policy.addClass("b", { rate: Rate.mbit(30) }).addMatch({ protocol: "tcp", destinationPort: 80 }));
    },
    line: "[stack/lab/QosPolicies/p/root/b] a match (match ip protocol 6 0xff match ip dport 80 0xffff) can never apply: an earlier one (match ip protocol 6 0xff) takes all its packets to another class; narrow the earlier one or remove this one.",
  },
  {
    what: "a NIC the guest does not have",
    build: (scope) => {
      const { lab, policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }));
      lab.addQosPolicy("q", { kind: "tbf", rate: Rate.mbit(10) }).applyTo({ name: "g1" }, { direction: "egress", nic: 2 });
    },
    line: "[stack/lab/QosPolicies/q] QoS policy 'q': guest 'g1' has no NIC 2 (it has 1).",
  },
  {
    what: "two policies on one device and direction",
    build: (scope) => {
      const { lab, policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }));
      lab.addQosPolicy("q", { kind: "tbf", rate: Rate.mbit(10) }).applyTo({ name: "g1" }, { direction: "ingress" });
    },
    line: "[stack/lab/QosPolicies/q] guest 'g1' NIC 0 (ingress) already has QoS policy 'p'; a device takes one root qdisc.",
  },
];

describe("QoS policies: bad input fails closed at synth", () => {
  it.each(CASES)("$what", ({ build, line }) => {
    expectFailsClosed(build, invalidLab(line));
  });

  it("refuses classes on a token bucket at once, with the path", () => {
    expect(() => synthJson((scope) => {
      const lab = new Lab(scope, "lab");
      lab.addQosPolicy("b", { kind: "tbf", rate: Rate.mbit(10) }).addClass("a", { rate: Rate.mbit(5) });
    })).toThrow("[stack/lab/QosPolicies/b] QoS policy 'b' is a token bucket (kind \"tbf\"), which has no classes; make it kind \"htb\" for a tree.");
  });
});

describe("QoS policies: what a good tree renders", () => {
  const json = synthJson((scope) => {
    const { policy } = base(scope);
    policy.addClass("a", { rate: Rate.mbit(30), ceil: Rate.mbit(100) }).addMatch({ source: "10.0.0.21" });
    policy.setDefault(policy.addClass("c", { rate: Rate.mbit(60), ceil: Rate.mbit(100) }));
  });
  const hook = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "qos/g1");
  const env = hook.provisioner[0]["local-exec"].environment;
  const script = Object.keys(env).sort().map((k) => env[k]).join("");

  it("one batch on the guest's host-side device: the tree with every size explicit, quanta in proportion to the rates, the filter", () => {
    expect(script).toMatch(/cn_tc_apply labt-g1-0 - [0-9a-f]+ <<'CLOUDNET_EOF'/);
    expect(script).toMatch(/qdisc add dev labt-g1-0 root handle ([0-9a-f]+): htb default 3\n/);
    expect(script).toMatch(/classid [0-9a-f]+:2 htb rate 30000000bit ceil 100000000bit burst 15000b cburst 50000b quantum 30000 prio 0/);
    expect(script).toMatch(/classid [0-9a-f]+:3 htb rate 60000000bit ceil 100000000bit burst 30000b cburst 50000b quantum 60000 prio 0/);
    expect(script).toMatch(/filter add dev labt-g1-0 parent [0-9a-f]+: protocol ip prio 1 u32 match ip src 10.0.0.21\/32 flowid [0-9a-f]+:2/);
    expect(script).toContain("ethtool -K labt-g1-0 tso off gso off gro off");
  });
});
