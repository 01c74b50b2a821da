// Types of the matchers Testing.setupJest() adds (test/synth/setup.ts).
import type {} from "cdktf/lib/testing/adapters/jest";
import { Testing, TerraformStack } from "cdktf";
import { demoLab } from "../../examples/demo-lab/lab";
import { hooksOf, synthJson } from "../support/labs";
import { hooksByStage, provisionersOf, teardownOf } from "./support/terraform-json";

/** What each stage of the demo lab must be applied after. */
const DEMO_AFTER: Record<string, string[]> = {
  "helpers": [],
  "fabric": [],
  "host/h1": ["fabric"],
  "host/h2": ["fabric"],
  "owner/h1": ["host/h1"],
  "owner/h2": ["host/h2"],
  "network/h1": ["owner/h1"],
  "network/h2": ["owner/h2"],
  // Every host with a segment gets the host guard; its guests wait for it.
  "firewall/h1": ["network/h1"],
  "firewall/h2": ["network/h2"],
  "external/internet": ["fabric"],
  "guest/web": ["network/h1", "firewall/h1"],
  "guest/db": ["network/h2", "firewall/h2"],
  "guest/red1": ["network/h2", "firewall/h2"],
  "inventory": [
    "fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "external/internet",
    "guest/web", "guest/db", "guest/red1",
  ],
  "converge/h1": ["owner/h1", "network/h1", "firewall/h1"],
  "converge/h2": ["owner/h2", "network/h2", "firewall/h2"],
  "converge": [
    "fabric", "host/h1", "owner/h1", "network/h1", "firewall/h1", "host/h2", "owner/h2", "network/h2", "firewall/h2", "external/internet",
    "guest/web", "guest/db", "guest/red1", "inventory", "converge/h1", "converge/h2",
  ],
};

describe("demo lab synth", () => {
  const json = synthJson((s) => { demoLab(s); });
  const hooks = hooksByStage(json);

  it("is valid Terraform", () => {
    const stack = new TerraformStack(Testing.app(), "demo");
    demoLab(stack);
    expect(Testing.fullSynth(stack)).toBeValidTerraform();
  });

  it("holds only terraform_data resources and no provider (an emulated lab needs nothing from the network)", () => {
    expect(Object.keys(json.resource)).toEqual(["terraform_data"]);
    expect(json.provider).toBeUndefined();
    expect(json.terraform?.required_providers).toBeUndefined();
  });

  it("has one hook per stage", () => {
    expect(Object.keys(hooks).sort()).toEqual(Object.keys(DEMO_AFTER).sort());
    expect(Object.keys(hooksOf(json))).toHaveLength(18);
  });

  it("depends_on edges follow the stage order", () => {
    for (const [stage, after] of Object.entries(DEMO_AFTER)) {
      // Every stage but the helper library's also waits for the library its scripts source.
      const expected = [...(stage === "helpers" ? [] : ["helpers"]), ...after].map((a) => `terraform_data.${hooks[a].name}`);
      expect([...(hooks[stage].body.depends_on ?? [])].sort()).toEqual(expected.sort());
    }
  });

  it("every hook is replaced by a fingerprint of its scripts, unique per stage", () => {
    const prints = Object.values(hooks).map((h) => h.body.triggers_replace);
    // Only the fingerprint: a teardown that changes alone replaces nothing (the e2e teardown-in-place shows it with Terraform).
    for (const p of prints) expect(p).toEqual({ fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(new Set(prints.map((p) => p.fingerprint)).size).toBe(prints.length);
  });

  it("every hook applies with local-exec and tears down at destroy with the teardown written into its destroy provisioner", () => {
    for (const { body } of Object.values(hooks)) {
      const [apply, destroy, ...rest] = provisionersOf(body);
      expect(rest).toEqual([]);
      expect(apply.kind).toBe("local-exec");
      expect(apply.body.when).toBeUndefined();
      expect(apply.body.interpreter).toEqual(["/bin/bash", "-c"]);
      expect(Object.keys(apply.body.environment)).toEqual(["CLOUDNET_SCRIPT_0"]);
      expect(destroy.kind).toBe("local-exec");
      expect(destroy.body).toMatchObject({ when: "destroy", environment: { CLOUDNET_SCRIPT_0: expect.stringMatching(/^set -Eeuo pipefail\n/) } });
      expect(Object.keys(teardownOf(body))).toEqual(["CLOUDNET_SCRIPT_0"]);
      expect(body.input).toEqual({ stage: expect.any(String) });
    }
  });

  it("stages inside an emulated host run in its namespace", () => {
    for (const id of ["owner/h1", "network/h1", "firewall/h1", "converge/h1"]) {
      const [apply, destroy] = provisionersOf(hooks[id].body);
      expect(apply.body.command.split("\n").pop()).toBe("nsenter --net=/run/netns/demo-h1 /bin/bash \"$f\"");
      // The owner's teardown removes what the lab has in the host's namespace, so it runs there too.
      expect(destroy.body.command.split("\n").pop()).toBe("nsenter --net=/run/netns/demo-h1 /bin/bash \"$f\"");
    }
    for (const id of ["fabric", "converge"]) {
      const [apply] = provisionersOf(hooks[id].body);
      expect(apply.body.command.split("\n").pop()).toBe("/bin/bash \"$f\"");
    }
  });

  it("carries the rendered scripts, escaped for Terraform", () => {
    const web = provisionersOf(hooks["guest/web"].body)[0].body.environment.CLOUDNET_SCRIPT_0;
    expect(web).toContain("ip -n demo-web addr replace 10.10.0.11/24 dev eth0");
    expect(web).toContain("cn_lib=$${CLOUDNET_LIB:-/run/cloudnet/lib}/");
    expect(web).not.toMatch(/(^|[^$])\$\{/);
    // The library travels once, in the helpers stage, escaped the same way.
    const library = provisionersOf(hooks.helpers.body)[0].body.environment.CLOUDNET_SCRIPT_0;
    expect(library).toContain("ip $${2:+-n \"$2\"} link show dev");
    expect(library).not.toMatch(/(^|[^$])\$\{/);
  });

  it("a second synth of the same lab is byte-identical", () => {
    expect(Testing.synthScope((s) => { demoLab(s); })).toBe(Testing.synthScope((s) => { demoLab(s); }));
  });
});
