// What must hold before any bpftrace process starts: Linux, root, a supported bpftrace, cgroup v2, and which
// kernfs field names a cgroup's parent on this kernel.
import { bpftraceBinary, checkBpftrace, kernfsParentField, type BpftraceVersion } from './bpftrace.ts';
import { cgroup2Root } from './cgroup-fs.ts';
import { EbpfUnavailableError } from './errors.ts';

export interface Preflight {
  bin: string;
  version: BpftraceVersion;
  kernfsParent: '__parent' | 'parent';
  cgroupRoot: string;
}

/** Everything that must hold before tracing; throws EbpfUnavailableError with the first reason it fails. */
export async function preflight(): Promise<Preflight> {
  if (process.platform !== 'linux') throw new EbpfUnavailableError(`eBPF needs Linux, this is ${process.platform}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new EbpfUnavailableError('katabot trace must run as root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)');
  }
  const bin = bpftraceBinary();
  const version = await checkBpftrace(bin);
  const cgroupRoot = cgroup2Root();
  const kernfsParent = await kernfsParentField(bin);
  return { bin, version, kernfsParent, cgroupRoot };
}
