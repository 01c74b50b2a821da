import { InvalidValueError, IpAddress, isPortNumber } from "../net";
import { ComputeSpec, TargetSpec } from "./spec";

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const PATH_RE = /^[A-Za-z0-9_./~-]+$/;
const IMAGE_RE = /^[a-z0-9][a-z0-9._/:@-]*$/;
const SSH_KEY_RE = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*( [^\n\r]*)?$/;

function isIpv6(text: string): boolean {
  try {
    return IpAddress.parse(text).family === 6;
  } catch {
    return false;
  }
}

/** Checks an SSH or local target; returns it unchanged. */
export function validateTarget(t: TargetSpec): TargetSpec {
  if (t.kind !== "ssh") return t;
  if (!HOSTNAME_RE.test(t.host) && !isIpv6(t.host)) {
    throw new InvalidValueError(`SSH host '${t.host}' is not a host name or IP address.`);
  }
  if (!USER_RE.test(t.user)) {
    throw new InvalidValueError(`SSH user '${t.user}' is not a valid login name: use up to 32 of a-z, 0-9, '_' and '-', starting with a letter or '_'.`);
  }
  if (!isPortNumber(t.port)) {
    throw new InvalidValueError(`SSH port ${t.port} is out of range 1-65535.`);
  }
  if (!PATH_RE.test(t.privateKeyFile)) {
    throw new InvalidValueError(`private key path '${t.privateKeyFile}' may only contain A-Z a-z 0-9 _ . / ~ -.`);
  }
  return t;
}

/** Checks a VM or container definition. */
export function validateCompute(c: ComputeSpec): void {
  if (c.kind === "namespace") return;
  if (c.kind === "container") {
    if (!IMAGE_RE.test(c.container.image)) {
      throw new InvalidValueError(`container image '${c.container.image}' is not an image reference such as 'nginx:1.27'.`);
    }
    return;
  }
  const vm = c.vm;
  if (!vm.image || /[\s"'`$\\]/.test(vm.image)) {
    throw new InvalidValueError(`VM image '${vm.image}' must be a URL or path without spaces or quotes.`);
  }
  if (!Number.isInteger(vm.memoryMiB) || vm.memoryMiB < 64) throw new InvalidValueError(`VM memory ${vm.memoryMiB} MiB is too small: give at least 64.`);
  if (!Number.isInteger(vm.vcpus) || vm.vcpus < 1 || vm.vcpus > 256) throw new InvalidValueError(`VM vcpus ${vm.vcpus} is out of range 1-256.`);
  if (!USER_RE.test(vm.user)) {
    throw new InvalidValueError(`VM user '${vm.user}' is not a valid login name: use up to 32 of a-z, 0-9, '_' and '-', starting with a letter or '_'.`);
  }
  if (vm.sshPublicKey !== undefined && !SSH_KEY_RE.test(vm.sshPublicKey)) {
    throw new InvalidValueError(`sshPublicKey is not one line of an OpenSSH public key ('ssh-ed25519 AAAA... comment').`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(vm.pool)) throw new InvalidValueError(`libvirt pool '${vm.pool}' may only contain A-Z a-z 0-9 _ -.`);
}
