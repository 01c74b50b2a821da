import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELPER_LIBRARY } from "../../lib/render";
import { cleanupPrefix, run, uniquePrefix } from "../support/netns";
import { requireRoot } from "../support/root";

/**
 * On a real host the lab's bridges share the system's Open vSwitch with other tools' (Neutron's
 * br-int, a br-ex). This machine has no openvswitch kernel module, so a real host's stages cannot be
 * applied here; what can be shown is the helper their teardown and converge run, `cn_ovs_prune -`,
 * against a system-style switch: ovsdb-server and ovs-vswitchd at the default socket
 * (/run/openvswitch, on a /run private to the test's mount namespace), other tools' bridges with ports and
 * flows, the lab's bridges beside them. The prune removes exactly the lab's, and the others' ports,
 * settings and flows (without counters) are byte for byte what they were.
 */
const p = uniquePrefix("y");
const sw = `${p}-sw`;

const SCRIPT = `
set -euo pipefail
. "$1"
p=$2
# A /run of its own (this mount namespace only): the system switch's default directory, empty.
mount -t tmpfs tmpfs /run
mkdir -p /run/openvswitch
db=$(mktemp -d)/conf.db
ovsdb-tool create "$db" /usr/share/openvswitch/vswitch.ovsschema
trap 'for f in ovs-vswitchd ovsdb-server; do [ -e /run/openvswitch/$f.pid ] && kill "$(cat /run/openvswitch/$f.pid)" 2>/dev/null; done; rm -rf "\${db%/*}"' EXIT
ovsdb-server "$db" --remote=punix:/run/openvswitch/db.sock --pidfile --detach --no-chdir --log-file=/dev/null
ovs-vsctl --no-wait init
ovs-vswitchd --pidfile --detach --no-chdir --log-file=/dev/null
view() {
  local b
  for b in br-int br-ex; do
    echo "== $b"
    ovs-vsctl list-ports "$b"
    ovs-vsctl get bridge "$b" datapath_type fail_mode protocols external_ids other_config
    ovs-ofctl -O OpenFlow13 dump-flows --no-stats "$b"
  done
}
# Another tool's bridges first, with ports and flows of their own.
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=netdev fail-mode=secure protocols=OpenFlow13 external_ids:owner=neutron
ovs-vsctl add-port br-int patch-tun -- set interface patch-tun type=patch options:peer=patch-int
ovs-vsctl add-br br-ex -- set bridge br-ex datapath_type=netdev
ovs-ofctl -O OpenFlow13 add-flow br-int "cookie=0x5eed,table=0,priority=3,in_port=patch-tun,actions=drop"
ovs-ofctl -O OpenFlow13 add-flow br-int "cookie=0x5eed,table=60,priority=1,actions=NORMAL"
before=$(view)
# The lab's, as its network stage makes them: integration, tunnel and provider bridges, patched, with flows.
for b in "\${p}i-sdn" "\${p}t-sdn" "\${p}p-h1"; do ovs-vsctl add-br "$b" -- set bridge "$b" datapath_type=netdev fail-mode=secure; done
ovs-vsctl add-port "\${p}i-sdn" "\${p}pt-sdn" -- set interface "\${p}pt-sdn" type=patch options:peer="\${p}pi-sdn"
ovs-vsctl add-port "\${p}t-sdn" "\${p}pi-sdn" -- set interface "\${p}pi-sdn" type=patch options:peer="\${p}pt-sdn"
ovs-ofctl add-flow "\${p}t-sdn" "cookie=0x77,table=0,priority=1,actions=drop"
echo "lab bridges: $(ovs-vsctl list-br | tr '\\n' ' ')"
cn_ovs_prune - "$p" -
echo "left: $(ovs-vsctl list-br | tr '\\n' ' ')"
after=$(view)
if [ "$before" = "$after" ]; then echo "foreign: identical"; else echo "foreign: differ"; diff <(echo "$before") <(echo "$after") || true; fi
echo "$before" | grep -c 'cookie=0x5eed' | sed 's/^/foreign flows: /'
`;

describe("the lab's Open vSwitch bridges on a shared system switch (kernel)", () => {
  let dir: string;
  beforeAll(() => {
    requireRoot();
    run("ip", ["netns", "add", sw]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloudnet-ovs-"));
    fs.writeFileSync(path.join(dir, "lib.sh"), HELPER_LIBRARY);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    cleanupPrefix(p);
  });

  test("removing the lab's bridges removes exactly those: the other tools' bridges, ports, settings and flows are byte-identical", () => {
    const out = run("ip", ["netns", "exec", sw, "bash", "-c", SCRIPT, "prune", path.join(dir, "lib.sh"), p]);
    const line = (label: string) => out.split("\n").find((l) => l.startsWith(`${label}: `))?.slice(label.length + 2).trim();
    // The control: the lab's bridges were there, beside the others.
    expect(line("lab bridges")!.split(" ").sort()).toEqual(["br-ex", "br-int", `${p}i-sdn`, `${p}p-h1`, `${p}t-sdn`]);
    expect(line("foreign flows")).toBe("2");
    expect(line("left")!.split(" ").sort()).toEqual(["br-ex", "br-int"]);
    expect(line("foreign")).toBe("identical");
  });
});
