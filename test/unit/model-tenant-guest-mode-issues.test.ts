import { GuestSpec, InterceptSpec, resolveLab } from "../../lib/model";
import { emulatedLab, guest, host, hostsLab, pathOf, resolveOk, segment, sshHost, theIssue } from "./support/lab-specs";
import { container } from "./support/tenant-specs";

/** Docker network modes, sidecar interception and externals. */

const lab = (guests: GuestSpec[]) => emulatedLab({ hosts: [host("h1"), host("h2")], segments: [segment("web", "10.1.0.0/24")], guests });

describe("container network modes", () => {
  it.each(["host", "none"] as const)("mode '%s' with NICs", (kind) => {
    expect(theIssue(lab([container("x", "h1", { kind }, [{ segment: "web" }])]))).toEqual({
      path: pathOf("x"), message: `guest 'x' uses network mode '${kind}', which has no NICs of its own; remove nics or use bridge mode.`,
    });
  });

  it("container:<x> where x is not a guest", () => {
    expect(theIssue(lab([container("x", "h1", { kind: "container", guest: "ghost" })]))).toEqual({
      path: pathOf("x"), message: "guest 'x' shares the network of 'ghost', which is not a guest of the lab; add it or pick another guest.",
    });
  });

  it("container:<x> where x is on another host", () => {
    expect(theIssue(lab([guest("app", "h2", [{ segment: "web" }]), container("x", "h1", { kind: "container", guest: "app" })]))).toEqual({
      path: pathOf("x"),
      message: "guest 'x' on host 'h1' shares the network of 'app' on host 'h2'; a shared namespace lives on one host: place both on the same host.",
    });
  });

  it("a cycle a -> b -> a is reported at both guests", () => {
    const r = resolveLab(lab([container("a", "h1", { kind: "container", guest: "b" }), container("b", "h1", { kind: "container", guest: "a" })]));
    expect(r.lab).toBeUndefined();
    expect(r.issues).toEqual([
      { path: pathOf("a"), message: "guest 'a' shares its network in a cycle (a -> b -> a); one of them needs its own network." },
      { path: pathOf("b"), message: "guest 'b' shares its network in a cycle (b -> a -> b); one of them needs its own network." },
    ]);
  });

  it("a guest sharing its own namespace is a cycle too", () => {
    expect(theIssue(lab([container("a", "h1", { kind: "container", guest: "a" })])).message).toBe(
      "guest 'a' shares its network in a cycle (a -> a); one of them needs its own network.");
  });
});

describe("interception", () => {
  const mesh = (intercept: InterceptSpec) => lab([guest("m", "h1", [{ segment: "web" }], { intercept })]);

  it("on a real-hosts lab it fails closed (an issue, never silently dropped)", () => {
    const issue = theIssue(hostsLab({
      hosts: [sshHost("h1", "192.0.2.10")], segments: [segment("web", "10.1.0.0/24")],
      guests: [guest("m", "h1", [{ segment: "web" }], { intercept: { outboundPort: 15001, proxyUid: 1337 } })],
    }));
    expect(issue).toEqual({
      path: pathOf("m"),
      message: "interception of guest 'm' is rendered for emulated guests only: on real hosts the rules belong inside the VM or container (e.g. an init container); remove intercept.",
    });
  });

  it("without ports", () => {
    expect(theIssue(mesh({ proxyUid: 1337 }))).toEqual({
      path: pathOf("m"), message: "intercept of guest 'm' names no port; give outboundPort, inboundPort or both.",
    });
  });

  it.each([
    [{ outboundPort: 0, proxyUid: 1337 }, 0],
    [{ inboundPort: 65536, proxyUid: 1337 }, 65536],
  ])("port out of range (%j)", (intercept, port) => {
    expect(theIssue(mesh(intercept))).toEqual({ path: pathOf("m"), message: `intercept port ${port} of guest 'm' is out of range 1-65535.` });
  });

  it("proxyUid -1", () => {
    expect(theIssue(mesh({ outboundPort: 15001, proxyUid: -1 }))).toEqual({
      path: pathOf("m"), message: "proxyUid -1 of guest 'm' is not a uid (0-4294967294).",
    });
  });

  it("on a guest that shares another namespace", () => {
    expect(theIssue(lab([container("x", "h1", { kind: "host" }, [], { intercept: { outboundPort: 15001, proxyUid: 1 } })]))).toEqual({
      path: pathOf("x"), message: "guest 'x' shares another namespace (mode 'host'); intercept on the namespace's owner instead.",
    });
  });

  it("a valid intercept is kept on the resolved guest", () => {
    const ok = resolveOk(mesh({ outboundPort: 15001, inboundPort: 15006, proxyUid: 0 }));
    expect(ok.guests[0].intercept).toEqual({ outboundPort: 15001, inboundPort: 15006, proxyUid: 0 });
  });
});

describe("externals", () => {
  it("on a hosts-backend lab", () => {
    expect(theIssue(hostsLab({ hosts: [sshHost("h1", "192.0.2.10")], externals: [{ name: "internet", path: pathOf("internet") }] }))).toEqual({
      path: pathOf("internet"),
      message: "external 'internet' is an emulated node, but the lab's backend is 'hosts'; real networks already have their outside world.",
    });
  });
});
