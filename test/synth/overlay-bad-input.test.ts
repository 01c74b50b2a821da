import { Construct } from "constructs";
import { Backend, Compute, Lab, NetworkMode, OverlayCluster, Segmentation, Target, Tunnel } from "../../lib";
import { expectFailsClosed, invalidLab, synthJson } from "../support/labs";

/**
 * Overlay clusters through the constructs: bad input fails closed at synth with the construct path,
 * the value and the fix; a good cluster renders its switch in the hosts' network stages.
 */
function base(scope: Construct, hosts = ["h1", "h2"]): { lab: Lab; cluster: OverlayCluster } {
  const lab = new Lab(scope, "lab");
  const hs = hosts.map((h) => lab.addHost(h));
  return { lab, cluster: lab.addOverlayCluster("sdn", { hosts: hs }) };
}

interface Case {
  readonly what: string;
  readonly build: (scope: Construct) => void;
  readonly line: string;
}

const CASES: Case[] = [
  {
    what: "a cluster of one host",
    build: (scope) => { base(scope, ["h1"]); },
    line: "[stack/lab/Clusters/sdn] cluster 'sdn' has one host (h1), so its tunnels would lead nowhere; give it two hosts or more, or leave its networks on Linux bridges.",
  },
  {
    what: "a host in two clusters",
    build: (scope) => {
      const { lab } = base(scope);
      lab.addHost("h3");
      lab.addOverlayCluster("other", { hosts: ["h1", "h3"] });
    },
    line: "[stack/lab/Clusters/other] host 'h1' is already in cluster 'sdn'; a host's Open vSwitch belongs to one cluster: put the networks of both in one cluster.",
  },
  {
    what: "a network on a host outside its cluster",
    build: (scope) => {
      const { lab, cluster } = base(scope);
      const h3 = lab.addHost("h3");
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
      lab.addGuest("g3", { host: h3, nics: [{ segment: net }] });
    },
    line: "[stack/lab/Tenants/blue/app] network 'blue-app' of cluster 'sdn' spans 'h3', not in the cluster (h1, h2); add it to the cluster's hosts or place the network's guests on its hosts.",
  },
  {
    what: "a VLAN network in a cluster of real hosts (no provider bridge)",
    build: (scope) => {
      const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
      const hs = ["h1", "h2"].map((h, i) => lab.addHost(h, { target: Target.ssh({ host: `192.0.2.${10 + i}` }), underlayAddress: `192.0.2.${10 + i}` }));
      const cluster = lab.addOverlayCluster("sdn", { hosts: hs });
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vlan() });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: net }] });
    },
    line: "[stack/lab/Tenants/blue/app] network 'blue-app' uses VLAN segmentation, which cluster 'sdn' carries on emulated hosts only (on real hosts it would need a provider bridge holding a NIC of the host, which the lab does not set up); use Segmentation.vxlan() or leave the network on Linux bridges.",
  },
  {
    what: "a container on a cluster network of real hosts (Docker picks its MAC)",
    build: (scope) => {
      const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
      const hs = ["h1", "h2"].map((h, i) => lab.addHost(h, { target: Target.ssh({ host: `192.0.2.${10 + i}` }), underlayAddress: `192.0.2.${10 + i}` }));
      const cluster = lab.addOverlayCluster("sdn", { hosts: hs });
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
      lab.addGuest("c1", { host: "h1", nics: [{ segment: net }] });
    },
    line: "[stack/lab/c1] container 'c1' has NIC 0 on network 'blue-app' of cluster 'sdn': on a real host Docker picks the container's MAC, which the cluster's switches would not admit; make the guest a VM or a namespace guest, or leave the network out of the cluster.",
  },
  {
    what: "two VLAN networks of a cluster with one VLAN id",
    build: (scope) => {
      const { lab, cluster } = base(scope);
      const a = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vlan({ id: 300 }) });
      const b = lab.addTenant("red").addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vlan({ id: 300 }) });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: a }] });
      lab.addGuest("g2", { host: "h1", nics: [{ segment: b }] });
    },
    line: "[stack/lab/Tenants/red/app] VLAN 300 is already used by stack/lab/Tenants/blue/app; give each segment its own VLAN id or leave it out to allocate one.",
  },
  {
    what: "two guests of a cluster network with one MAC",
    build: (scope) => {
      const { lab, cluster } = base(scope);
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: net, mac: "52:54:00:00:00:10" }] });
      lab.addGuest("g2", { host: "h2", nics: [{ segment: net, mac: "52:54:00:00:00:10" }] });
    },
    line: "[stack/lab/g2] MAC 52:54:00:00:00:10 of NIC 0 is already used by stack/lab/g1 NIC 0; leave mac out to derive one.",
  },
  {
    what: "a bridged network in a cluster",
    build: (scope) => {
      const { lab, cluster } = base(scope);
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "198.18.0.0/24", cluster, mode: NetworkMode.bridged() });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: net }] });
    },
    line: "[stack/lab/Tenants/blue/app] network 'blue-app' is bridged (on the physical LAN), so it takes no overlay; remove cluster or choose another mode.",
  },
  {
    what: "an unknown cluster name",
    build: (scope) => {
      const { lab } = base(scope);
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster: "sdm" });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: net }] });
    },
    line: "[stack/lab/Tenants/blue/app] network 'blue-app' joins cluster 'sdm', which is not in the lab (it has 'sdn'); add it with new OverlayCluster(lab, 'sdm', { hosts }).",
  },
  {
    what: "an underlay MTU too small for GRE's overhead",
    build: (scope) => {
      const lab = new Lab(scope, "lab");
      const hs = ["h1", "h2"].map((h) => lab.addHost(h));
      const cluster = lab.addOverlayCluster("sdn", { hosts: hs, tunnel: Tunnel.gre() });
      const net = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster, underlayMtu: 600 });
      lab.addGuest("g1", { host: "h1", nics: [{ segment: net }] });
    },
    line: "[stack/lab/Tenants/blue/app] MTU 558 after GRE encapsulation (600 - 42) is below 576, the minimum for IPv4; raise underlayMtu to at least 618.",
  },
];

describe("overlay clusters: bad input fails closed at synth", () => {
  it.each(CASES)("$what", ({ build, line }) => {
    expectFailsClosed(build, invalidLab(line));
  });

  it("names another lab's cluster as such", () => {
    expect(() => synthJson((scope) => {
      const { cluster } = base(scope);
      const other = new Lab(scope, "other", { prefix: "oth" });
      other.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
    })).toThrow("[stack/other/Tenants/blue/app] cluster 'sdn' belongs to lab stack/lab, not to lab stack/other; parts of one lab can only refer to parts of the same lab.");
  });
});

describe("overlay clusters: what a good one renders", () => {
  const json = synthJson((scope) => {
    const { lab, cluster } = base(scope);
    const blue = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
    const red = lab.addTenant("red").addNetwork("app", { cidr: "10.0.0.0/24", cluster });
    lab.addGuest("b1", { host: "h1", nics: [{ segment: blue }] });
    lab.addGuest("b2", { host: "h2", nics: [{ segment: blue }] });
    lab.addGuest("r1", { host: "h1", nics: [{ segment: red }] });
  });
  const hooks = json.resource.terraform_data;
  const script = (stage: string) => {
    const hook = Object.values<any>(hooks).find((h) => h.input.stage === stage);
    const env = hook.provisioner[0]["local-exec"].environment;
    return Object.keys(env).sort().map((k) => env[k]).join("");
  };

  it("a host's network stage starts its switch, the bridges, a tunnel per host it shares a network with, and bundles the flows", () => {
    const h1 = script("network/h1");
    expect(h1).toContain("cn_ovs_up /run/cloudnet/ovs/lab-h1");
    expect(h1).toMatch(/--may-exist add-br labi-sdn -- set bridge labi-sdn datapath_type=netdev fail-mode=secure/);
    expect(h1).toMatch(/--may-exist add-port labt-sdn labn-h2 -- set interface labn-h2 type=vxlan options:remote_ip=\S+ options:local_ip=\S+ options:key=flow/);
    expect(h1).toMatch(/cn_ovs_flows unix:\/run\/cloudnet\/ovs\/lab-h1\/db.sock unix:\/run\/cloudnet\/ovs\/lab-h1\/labt-sdn.mgmt labt-sdn 0x[1-9a-f][0-9a-f]{0,15} <<.CLOUDNET_EOF./);
    // Local VLANs by VNI: blue (1000) is 1 and red (1001) is 2 on h1; only blue reaches h2.
    // Inbound, a tunnel id is taken only from the hosts that carry its network: blue's from h2, red's from none.
    expect(h1).toContain("table=4,priority=1,in_port=labn-h2,tun_id=0x3e8,actions=mod_vlan_vid:1");
    expect(h1).not.toContain("tun_id=0x3e9");
    expect(h1).toMatch(/dl_vlan=1,actions=strip_vlan,set_tunnel:0x3e8,output:labn-h2/);
    // Red lives on h1 only: its floods go nowhere.
    expect(h1).toContain("table=22,priority=1,dl_vlan=2,actions=drop");
    // The integration bridge admits a source MAC only from where it lives: the local guests' on their
    // networks' ports, blue's remote one from the patch with blue's VLAN; anything else is dropped.
    const admitted = [...h1.matchAll(/table=0,priority=1,(in_port=\S+?),dl_src=[0-9a-f:]{17},actions=NORMAL/g)].map((m) => m[1]).sort();
    expect(admitted).toEqual(["in_port=labpt-sdn,dl_vlan=1", "in_port=labw-blue-app", "in_port=labw-red-app"]);
    expect(h1).toContain("table=0,priority=0,actions=drop");
  });
});

describe("overlay clusters: a VLAN network renders a trunk on the provider bridges, no tunnel", () => {
  const json = synthJson((scope) => {
    const { lab, cluster } = base(scope);
    const blue = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vlan({ id: 300 }) });
    lab.addGuest("b1", { host: "h1", nics: [{ segment: blue }] });
    lab.addGuest("b2", { host: "h2", nics: [{ segment: blue }] });
  });
  const hook = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "network/h1");
  const env = hook.provisioner[0]["local-exec"].environment;
  const h1 = Object.keys(env).sort().map((k) => env[k]).join("");

  it("patches the integration bridge to h1's provider bridge and swaps the local VLAN for 300 on tun0, both ways", () => {
    expect(h1).toMatch(/--may-exist add-port labi-sdn labpv-sdn -- set interface labpv-sdn type=patch options:peer=labpw-sdn/);
    expect(h1).toMatch(/--may-exist add-port labp-h1 labpw-sdn -- set interface labpw-sdn type=patch options:peer=labpv-sdn/);
    expect(h1).toContain("table=0,priority=2,in_port=labpw-sdn,dl_vlan=1,actions=mod_vlan_vid:300,output:tun0");
    expect(h1).toContain("table=0,priority=2,in_port=tun0,dl_vlan=300,actions=mod_vlan_vid:1,output:labpw-sdn");
    // Other tagged frames on the trunk are not the lab's.
    expect(h1).toContain("table=0,priority=1,in_port=tun0,vlan_tci=0x1000/0x1000,actions=drop");
    // b2's MAC comes from the provider patch, with the local VLAN.
    expect(h1).toMatch(/table=0,priority=1,in_port=labpv-sdn,dl_vlan=1,dl_src=[0-9a-f:]{17},actions=NORMAL/);
    expect(h1).not.toMatch(/add-port labt-sdn labn-h2/);
  });
});

describe("overlay clusters: a GRE cluster on real hosts accepts its tunnels in INPUT by key, from the network's hosts only", () => {
  const json = synthJson((scope) => {
    const lab = new Lab(scope, "lab", { backend: Backend.hosts() });
    const hs = ["h1", "h2", "h3"].map((h, i) => lab.addHost(h, { target: Target.ssh({ host: `192.0.2.${10 + i}` }), underlayAddress: `192.0.2.${10 + i}` }));
    const cluster = lab.addOverlayCluster("sdn", { hosts: hs, tunnel: Tunnel.gre() });
    const blue = lab.addTenant("blue").addNetwork("app", { cidr: "10.0.0.0/24", cluster, segmentation: Segmentation.vxlan({ vni: 1000 }) });
    lab.addGuest("b1", { host: "h1", nics: [{ segment: blue }], compute: Compute.namespace() });
    lab.addGuest("b2", { host: "h2", nics: [{ segment: blue }], compute: Compute.namespace() });
  });
  const hook = Object.values<any>(json.resource.terraform_data).find((h) => h.input.stage === "firewall/h1");
  const script = JSON.stringify(hook);

  it("accepts GRE with blue's key from h2, drops it from anyone else, and renders no VXLAN rule", () => {
    expect(script).toContain('-A CN-lab-IN -i eth0 -s 192.0.2.11/32 -p gre -m u32 --u32 \\\"0x0>>0x16&0x3c@0x4=0x3e8\\\" -j ACCEPT');
    expect(script).toContain('-A CN-lab-IN -p gre -m u32 --u32 \\\"0x0>>0x16&0x3c@0x4=0x3e8\\\" -j DROP');
    expect(script).not.toContain("192.0.2.12/32 -p gre");
    expect(script).not.toContain("--dport 4789");
  });
});
