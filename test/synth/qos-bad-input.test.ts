import { Construct } from "constructs";
import { Lab, QosPolicy, QosQueue, Rate } from "../../lib";
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
  {
    what: "a queue on a class with children",
    build: (scope) => {
      const { policy } = base(scope);
      const mid = policy.addClass("mid", { rate: Rate.mbit(50), queue: QosQueue.pfifo(100) });
      policy.setDefault(mid.addClass("leaf", { rate: Rate.mbit(50) }));
    },
    line: "[stack/lab/QosPolicies/p/root/mid] class 'mid' has children, so it holds no queue of its own; give the queue to its leaves.",
  },
  {
    what: "a bfifo smaller than two frames",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), queue: QosQueue.bfifo(1000) }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] bfifo limitBytes 1000 is out of range 3,028-1,073,741,824.",
  },
  {
    what: "an fq_codel target not below its interval",
    build: (scope) => {
      const { policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30), queue: QosQueue.fqCodel({ targetMs: 100, intervalMs: 50 }) }));
    },
    line: "[stack/lab/QosPolicies/p/root/a] fq_codel target 100 ms is not below its interval 50 ms; CoDel's target is a small part of the interval (5 of 100 by default).",
  },
  {
    what: "netem that impairs nothing",
    build: (scope) => {
      const { lab, policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }));
      lab.addQosPolicy("n", { kind: "netem" }).applyTo({ name: "g1" }, { direction: "egress" });
    },
    line: "[stack/lab/QosPolicies/n] QoS policy 'n' impairs nothing; give a delay, a loss or a rate.",
  },
  {
    what: "netem jitter without a delay, and a loss above 100 %",
    build: (scope) => {
      const { lab, policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }));
      lab.addQosPolicy("n", { kind: "netem", jitterMs: 5, lossPercent: 120 }).applyTo({ name: "g1" }, { direction: "egress" });
    },
    line: "[stack/lab/QosPolicies/n] QoS policy 'n': lossPercent 120 is out of range 0-100.\n  [stack/lab/QosPolicies/n] QoS policy 'n': jitter 5 ms needs a delay to vary around; give delayMs.",
  },
  {
    what: "two tenant defaults on one NIC and direction",
    build: (scope) => {
      const { lab, policy } = base(scope);
      policy.setDefault(policy.addClass("a", { rate: Rate.mbit(30) }));
      const t = lab.node.findChild("Tenants").node.findChild("t") as never;
      lab.addQosPolicy("q1", { kind: "tbf", rate: Rate.mbit(10) }).applyTo(t, { direction: "egress" });
      lab.addQosPolicy("q2", { kind: "tbf", rate: Rate.mbit(20) }).applyTo(t, { direction: "egress" });
    },
    line: "[stack/lab/QosPolicies/q2] guest 'g1' NIC 0 (egress) already has QoS policy 'q1'; a device takes one root qdisc.",
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
    })).toThrow("[stack/lab/QosPolicies/b] QoS policy 'b' is of kind \"tbf\", which has no classes; make it kind \"htb\" for a tree.");
  });

  it("refuses a shaping policy without a rate, and a tenant's default for one NIC, at once", () => {
    expect(() => synthJson((scope) => {
      new Lab(scope, "lab").addQosPolicy("b", { kind: "tbf" });
    })).toThrow("[stack/lab/QosPolicies/b] QoS policy 'b' (kind \"tbf\") needs a rate, e.g. rate: Rate.mbit(100).");
    expect(() => synthJson((scope) => {
      const lab = new Lab(scope, "lab");
      const t = lab.addTenant("t");
      lab.addQosPolicy("b", { kind: "tbf", rate: Rate.mbit(1) }).applyTo(t, { direction: "ingress", nic: 1 });
    })).toThrow("[stack/lab/QosPolicies/b] a tenant's default applies to every NIC of its guests on its networks; leave out nic (1).");
  });

  it("refuses a host's uplink given a NIC, two policies one way on it, and a meter on it", () => {
    expect(() => synthJson((scope) => {
      const lab = new Lab(scope, "lab");
      const h1 = lab.addHost("h1");
      lab.addQosPolicy("b", { kind: "tbf", rate: Rate.mbit(1) }).applyTo(h1, { direction: "egress", nic: 0 });
    })).toThrow("[stack/lab/QosPolicies/b] a host is shaped on its uplink; leave out nic (0).");
    expectFailsClosed((scope) => {
      const lab = new Lab(scope, "lab");
      const h1 = lab.addHost("h1");
      lab.addQosPolicy("one", { kind: "tbf", rate: Rate.mbit(10) }).applyTo(h1, { direction: "egress" });
      lab.addQosPolicy("two", { kind: "tbf", rate: Rate.mbit(20) }).applyTo(h1, { direction: "egress" });
      lab.addQosPolicy("police", { kind: "meter", rate: Rate.mbit(20) }).applyTo(h1, { direction: "ingress" });
    }, "Validation failed with the following errors:\n" +
      "  [stack/lab/QosPolicies/two] host 'h1' uplink eth0 (egress) already has QoS policy 'one'; a device takes one root qdisc.\n" +
      "  [stack/lab/QosPolicies/police] QoS policy 'police' is a meter, which polices on Open vSwitch ports; attach it with applyToSwitch(network, { host }), or make it a token bucket (kind \"tbf\") for a guest or a host's uplink.\n\n" +
      "The lab renders no host script until these are fixed.");
  });
});

describe("QoS policies: a host's uplink", () => {
  const json = synthJson((scope) => {
    const lab = new Lab(scope, "lab");
    const h1 = lab.addHost("h1");
    lab.addQosPolicy("out", { kind: "tbf", rate: Rate.mbit(20) }).applyTo(h1, { direction: "egress" });
    lab.addQosPolicy("in", { kind: "tbf", rate: Rate.mbit(30) }).applyTo(h1, { direction: "ingress" });
  });
  const hook = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "uplink-qos/h1");
  const env = hook.provisioner[0]["local-exec"].environment;
  const script = Object.keys(env).sort().map((k) => env[k]).join("");

  it("checks both ways for another tool's qdiscs before it changes anything, then shapes eth0 and an IFB fed from it", () => {
    const first = (re: RegExp) => script.search(re);
    expect(first(/cn_tc_foreign eth0 root [0-9a-f]+ lab@lab-h1@eth0\n/)).toBeGreaterThan(-1);
    expect(first(/cn_tc_foreign eth0 ingress [0-9a-f]+ lab@lab-h1@eth0@ingress\n/)).toBeGreaterThan(-1);
    expect(first(/cn_tc_foreign eth0 ingress/)).toBeLessThan(first(/cn_tc_apply/));
    expect(script).toMatch(/cn_tc_apply eth0 - [0-9a-f]+ lab@lab-h1@eth0 <<'CLOUDNET_EOF'\nqdisc add dev eth0 root handle [0-9a-f]+: tbf rate 20000000bit/);
    expect(script).toMatch(/cn_tc_apply labu-h1 eth0 [0-9a-f]+ <<'CLOUDNET_EOF'\nqdisc add dev labu-h1 root handle [0-9a-f]+: tbf rate 30000000bit/);
    expect(script).toContain("filter add dev eth0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev labu-h1");
    expect(script).toContain("echo lab > /run/cloudnet/tc/lab@lab-h1@eth0@ingress");
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

  it("each leaf's queue under its class, a bfifo of 20 ms at its ceil (100 Mbit/s: 250,000 bytes)", () => {
    expect(script).toMatch(/qdisc add dev labt-g1-0 parent ([0-9a-f]+):2 handle 2: bfifo limit 250000\n/);
    expect(script).toMatch(/qdisc add dev labt-g1-0 parent ([0-9a-f]+):3 handle 3: bfifo limit 250000\n/);
    expect(script).not.toContain("cn_tc_need");
  });

  it("guests on the shaped segment send without segmentation offload (the shaper meters frames, not 64 kB segments)", () => {
    const guest = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "guest/g1");
    const genv = guest.provisioner[0]["local-exec"].environment;
    expect(Object.keys(genv).sort().map((k) => genv[k]).join("")).toContain("ethtool -K eth0 tso off gso off");
  });
});

describe("QoS policies: queues and impairments some kernels lack", () => {
  const json = synthJson((scope) => {
    const { lab, policy } = base(scope);
    policy.addClass("a", { rate: Rate.mbit(30), queue: QosQueue.sfq() });
    policy.setDefault(policy.addClass("c", { rate: Rate.mbit(60), queue: QosQueue.fqCodel() }));
    lab.addQosPolicy("wan", { kind: "netem", delayMs: 40, jitterMs: 5, lossPercent: 0.5, rate: Rate.mbit(10) }).applyTo({ name: "g1" }, { direction: "egress" });
  });
  const hook = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "qos/g1");
  const env = hook.provisioner[0]["local-exec"].environment;
  const script = Object.keys(env).sort().map((k) => env[k]).join("");

  it("renders them in tc's words, after asking the kernel for each kind before anything is taken down", () => {
    expect(script).toMatch(/cn_tc_need laby?z-probe fq_codel netem sfq\n/);
    expect(script.indexOf("cn_tc_need")).toBeLessThan(script.indexOf("cn_tc_apply"));
    expect(script).toMatch(/parent [0-9a-f]+:2 handle 2: sfq perturb 10\n/);
    expect(script).toMatch(/parent [0-9a-f]+:3 handle 3: fq_codel target 5ms interval 100ms\n/);
    expect(script).toMatch(/root handle [0-9a-f]+: netem delay 40ms 5ms loss 0.5% rate 10000000bit\n/);
  });
});
