// seccomp profiles in the OCI runtime-spec format (`linux.seccomp`, what kubelet's `localhost/…` profiles hold):
// every system call a workload made is allowed, anything else fails with EPERM. The calls come from a syscall
// probe: custom items whose identity has a `syscall` name or an x86_64 `nr` (docs/policy.md). Pure.
import type { PolicySet, WorkloadPolicy } from './model.ts';

interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: Array<{ names: string[]; action: 'SCMP_ACT_ALLOW' }>;
}

/** EPERM: what a denied call returns, as in the runtimes' default profiles. */
const EPERM = 1;

export interface SeccompDoc {
  workload: string;
  /** `<namespace>-<workload>.json`: the file name under the kubelet's seccomp root. */
  file: string;
  profile: SeccompProfile;
  /** Numbers the table did not know; they are left out and the profile may be too narrow. */
  unknown: number[];
}

export function seccompProfileOf(w: WorkloadPolicy): SeccompDoc | undefined {
  if (w.syscalls.length === 0) return undefined;
  return {
    workload: w.id,
    file: `${`${w.namespace}-${w.name}`.replace(/[^A-Za-z0-9._-]+/g, '-')}.json`,
    profile: {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: EPERM,
      // the numbers were x86_64's; names carry over to other architectures, numbers would not
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: [...w.syscalls], action: 'SCMP_ACT_ALLOW' }],
    },
    unknown: [...w.unknownSyscalls],
  };
}

/** One profile per workload that has syscall data; workloads without any are named in `missing`. */
export function seccompProfiles(set: PolicySet): { docs: SeccompDoc[]; missing: string[] } {
  const docs: SeccompDoc[] = [];
  const missing: string[] = [];
  for (const w of set.workloads) {
    const d = seccompProfileOf(w);
    if (d) docs.push(d);
    else missing.push(w.id);
  }
  return { docs, missing };
}

/** JSON as the kubelet reads it, with a stable key order. */
export function renderSeccomp(d: SeccompDoc): string {
  return JSON.stringify(d.profile, null, 2) + '\n';
}
