import { Construct } from "constructs";
import { Backend, Lab, PodBackend, PodNetworkProps, Target } from "../../lib";
import { expectFailsClosed, hooksOf, invalidLab, synthJson } from "../support/labs";

/**
 * Pod networks through the constructs: bad input fails closed at synth with the construct path, the
 * value and the limit or the fix; a good network renders a stage per node and per pod.
 */
function emulated(scope: Construct, props: Partial<PodNetworkProps> = {}) {
  const lab = new Lab(scope, "lab");
  const hosts = ["h1", "h2", "h3"].map((h) => lab.addHost(h));
  const net = lab.addPodNetwork("k8s", { cidr: "10.244.0.0/16", nodes: hosts, ...props });
  return { lab, hosts, net };
}

function real(scope: Construct, props: Partial<PodNetworkProps>) {
  const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
  const hosts = [["h1", "192.0.2.10"], ["h2", "192.0.2.11"], ["h3", "198.51.100.7"]]
    .map(([h, ip]) => lab.addHost(h, { target: Target.ssh({ host: ip }), underlayAddress: ip }));
  lab.addPodNetwork("k8s", { cidr: "10.244.0.0/16", nodes: hosts, ...props });
}

const AT = "[stack/lab/PodNetworks/k8s]";

const CASES: Array<{ what: string; build: (scope: Construct) => void; line: string }> = [
  {
    what: "two pod networks with overlapping CIDRs on one node",
    build: (scope) => {
      const { lab, hosts } = emulated(scope);
      lab.addPodNetwork("other", { cidr: "10.244.128.0/17", nodes: [hosts[1]], backend: PodBackend.flannelVxlan({ vni: 2 }) });
    },
    line: "[stack/lab/PodNetworks/other] cluster CIDR 10.244.128.0/17 of pod network 'other' overlaps 10.244.0.0/16 of pod network 'k8s' (stack/lab/PodNetworks/k8s) on node 'h2'; one routing domain needs distinct ranges: pick another cidr.",
  },
  {
    what: "a cluster CIDR overlapping a tenant network on a node",
    build: (scope) => {
      const { lab } = emulated(scope);
      const net = lab.addTenant("t").addNetwork("net", { cidr: "10.244.7.0/24" });
      lab.addGuest("g", { host: "h1", nics: [{ segment: net }] });
    },
    line: `${AT} cluster CIDR 10.244.0.0/16 of pod network 'k8s' overlaps 10.244.7.0/24 of segment 't-net' (stack/lab/Tenants/t/net) on node 'h1'; pick another cidr.`,
  },
  {
    what: "a node subnet size that leaves no room for the nodes",
    build: (scope) => emulated(scope, { cidr: "10.244.0.0/24", nodeSubnetPrefix: 25 }),
    line: `${AT} pod network 'k8s' has 3 nodes but 10.244.0.0/24 holds only 2 subnets of /25; use a shorter nodeSubnetPrefix or a larger cidr.`,
  },
  {
    what: "a node subnet no longer than the cluster CIDR",
    build: (scope) => emulated(scope, { cidr: "10.244.0.0/24", nodeSubnetPrefix: 24 }),
    line: `${AT} nodeSubnetPrefix 24 of pod network 'k8s' cannot split 10.244.0.0/24: use a mask longer than /24 and at most /30, e.g. /30.`,
  },
  {
    what: "more pods than a node subnet holds",
    build: (scope) => {
      const { net, hosts } = emulated(scope, { nodeSubnetPrefix: 30 });
      net.addPod("a", { node: hosts[0] });
      net.addPod("b", { node: hosts[0] });
    },
    line: "[stack/lab/PodNetworks/k8s/b] pod 'b' does not fit on node 'h1': its /30 of pod network 'k8s' holds 1 pods; use a shorter nodeSubnetPrefix or place the pod on another node.",
  },
  {
    what: "host-gw across L2 domains",
    build: (scope) => real(scope, { backend: PodBackend.flannelHostGw(), underlayCidr: "192.0.2.0/24" }),
    line: `${AT} node 'h3' (198.51.100.7) of pod network 'k8s' is outside 192.0.2.0/24: host-gw routes each node's subnet via that node's own address, so every node must be on one L2 segment; use PodBackend.flannelVxlan(), or move the node.`,
  },
  {
    what: "host-gw on real hosts without the shared underlay",
    build: (scope) => real(scope, { backend: PodBackend.flannelHostGw() }),
    line: `${AT} pod network 'k8s' needs underlayCidr: host-gw routes each node's subnet via that node's own address, so every node must be on one L2 segment; give the nodes' shared subnet, e.g. underlayCidr: '192.0.2.0/24'.`,
  },
  {
    what: "a label key of unknown syntax",
    build: (scope) => {
      const { net, hosts } = emulated(scope);
      net.addPod("a", { node: hosts[0], labels: { "app name": "web" } });
    },
    line: "[stack/lab/PodNetworks/k8s/a] label key 'app name' of pod 'a' is not a Kubernetes label key: a name of 1-63 of A-Z a-z 0-9 - _ . (optionally 'prefix/'), starting and ending alphanumeric.",
  },
  {
    what: "a label value of unknown syntax",
    build: (scope) => {
      const { net, hosts } = emulated(scope);
      net.addPod("a", { node: hosts[0], labels: { app: "-web" } });
    },
    line: "[stack/lab/PodNetworks/k8s/a] label 'app: -web' of pod 'a' has an invalid value: 0-63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric.",
  },
  {
    what: "a VNI collision between two pod networks",
    build: (scope) => {
      const { lab, hosts } = emulated(scope);
      lab.addPodNetwork("other", { cidr: "10.245.0.0/16", nodes: [hosts[0]] });
    },
    line: "[stack/lab/PodNetworks/other] VNI 1 (port 8472) of pod network 'other' is already used by pod network 'k8s' (stack/lab/PodNetworks/k8s); give each VXLAN pod network its own vni.",
  },
  {
    what: "a VNI collision with a tenant network on the same port",
    build: (scope) => {
      const { lab } = emulated(scope, { backend: PodBackend.flannelVxlan({ vni: 1000, port: 4789 }) });
      const net = lab.addTenant("t").addNetwork("net", { cidr: "10.50.0.0/24", vni: 1000 });
      lab.addGuest("g", { host: "h1", nics: [{ segment: net }] });
    },
    line: `${AT} VNI 1000 of pod network 'k8s' is already used by segment 't-net' (stack/lab/Tenants/t/net) on the same port 4789; give the pod network another vni.`,
  },
  {
    what: "a pod on a host that is not a node",
    build: (scope) => {
      const lab = new Lab(scope, "lab");
      const [h1, h2] = ["h1", "h2"].map((h) => lab.addHost(h));
      lab.addPodNetwork("k8s", { cidr: "10.244.0.0/16", nodes: [h1] }).addPod("a", { node: h2 });
    },
    line: "[stack/lab/PodNetworks/k8s/a] pod 'a' is on 'h2', which is not a node of pod network 'k8s' (h1); add it to nodes or move the pod.",
  },
  {
    what: "a route reflector that is not a node",
    build: (scope) => {
      const lab = new Lab(scope, "lab");
      const [h1, h2, h3] = ["h1", "h2", "h3"].map((h) => lab.addHost(h));
      lab.addPodNetwork("k8s", { cidr: "10.244.0.0/16", nodes: [h1, h2], backend: PodBackend.calico({ routeReflectors: [h3] }) });
    },
    line: `${AT} route reflector 'h3' of pod network 'k8s' is not one of its nodes (h1, h2).`,
  },
  {
    what: "crossSubnet without encapsulation",
    build: (scope) => emulated(scope, { backend: PodBackend.calico({ crossSubnet: true }) }),
    line: `${AT} pod network 'k8s' sets crossSubnet without encapsulation; crossSubnet says where to encapsulate: set encapsulation 'ipip' or 'vxlan'.`,
  },
  {
    what: "an IPv6 cluster CIDR",
    build: (scope) => emulated(scope, { cidr: "fd00:244::/56" }),
    line: `${AT} cluster CIDR fd00:244::/56 of pod network 'k8s' is IPv6; pod networks here are IPv4: give an IPv4 CIDR such as '10.244.0.0/16'.`,
  },
  {
    what: "an underlay MTU that leaves pods too little",
    build: (scope) => emulated(scope, { underlayMtu: 600 }),
    line: `${AT} underlayMtu 600 of pod network 'k8s' leaves pods an MTU of 550, below 576; raise underlayMtu.`,
  },
];

describe("pod networks: bad input fails closed at synth", () => {
  it.each(CASES)("$what", ({ build, line }) => {
    expectFailsClosed(build, invalidLab(line));
  });
});

describe("pod networks: names", () => {
  test("a pod named like a host is refused where it is made", () => {
    const lab = new Lab(new Construct(undefined as unknown as Construct, "stack"), "lab");
    const h1 = lab.addHost("h1");
    const net = lab.addPodNetwork("k8s", { cidr: "10.244.0.0/16", nodes: [h1] });
    expect(() => net.addPod("h1", { node: h1 })).toThrow("[stack/lab/PodNetworks/k8s/h1] pod name 'h1' is already used by host stack/lab/h1 in lab stack/lab (hosts, guests, externals and pods share one namespace: each is a node)");
  });
});

describe("pod networks: what a good network renders", () => {
  test("a stage per node and per pod, after the node's; Calico's BIRD configuration in the node's stage", () => {
    const hooks = hooksOf(synthJson((scope) => {
      const { net, hosts } = emulated(scope, { backend: PodBackend.calico({ routeReflectors: ["h1"] }) });
      net.addPod("web", { node: hosts[1], labels: { app: "web" } });
    }));
    const hook = (stage: string) => Object.entries(hooks).find(([id]) => id.startsWith(`lab_Stages_${stage}_hook_`))?.[1];
    for (const stage of ["pods_h1", "pods_h2", "pods_h3", "pod_web"]) expect({ stage, found: hook(stage) !== undefined }).toEqual({ stage, found: true });
    const node = JSON.stringify(hook("pods_h2"));
    expect(node).toContain("cn_bird_up");
    // h2 is a client of the reflector h1: one session, to h1 only.
    expect(node).toContain("protocol bgp n_h1 from node_to_node");
    expect(node).not.toContain("protocol bgp n_h3");
  });
});
