// cgroup path attribution, one case per path shape: systemd and cgroupfs drivers, each QoS class, containerd,
// CRI-O (and conmon), docker, kind's nested hierarchy, static pods, Kata's sandbox and overhead cgroups, and the
// paths a kata-agent gives containers inside the guest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bareContainerId, findCgroup2Mount, parseCgroupPath, parseMountInfo, parseProcCgroup, type CgroupAttribution } from '../../../src/trace/cgroup-path.ts';

const UID = '0b7d3f2a-1c4e-4f5a-9b8c-7d6e5f4a3b2c';
const UID_ = UID.replaceAll('-', '_');
const CID = 'f3a1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80';
const SANDBOX = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d';
const NODE = '4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b';

const PODMAN_POD = '24174ce62b72626a89fb77a1ec16ac8be2e0525fc2a48e6b931e1210472c2e79';

const cases: Array<{ name: string; path: string; want: CgroupAttribution | undefined }> = [
  {
    name: 'systemd, burstable, containerd',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${CID}.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'burstable', podUid: UID, containerId: CID, runtime: 'containerd' },
  },
  {
    name: 'systemd, besteffort, CRI-O',
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${CID}.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'cri-o' },
  },
  {
    name: 'systemd, CRI-O conmon',
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-conmon-${CID}.scope`,
    want: { kind: 'conmon', driver: 'systemd', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'cri-o' },
  },
  {
    name: 'systemd, guaranteed (no QoS slice), docker via cri-dockerd',
    path: `/kubepods.slice/kubepods-pod${UID_}.slice/docker-${CID}.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'guaranteed', podUid: UID, containerId: CID, runtime: 'docker' },
  },
  {
    name: 'systemd, the pod cgroup itself',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice`,
    want: { kind: 'pod', driver: 'systemd', qos: 'burstable', podUid: UID },
  },
  {
    name: 'cgroupfs, besteffort, containerd or docker (bare id)',
    path: `/kubepods/besteffort/pod${UID}/${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'unknown' },
  },
  {
    name: 'cgroupfs, guaranteed',
    path: `/kubepods/pod${UID}/${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', qos: 'guaranteed', podUid: UID, containerId: CID, runtime: 'unknown' },
  },
  {
    name: 'cgroupfs, CRI-O',
    path: `/kubepods/burstable/pod${UID}/crio-${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', qos: 'burstable', podUid: UID, containerId: CID, runtime: 'cri-o' },
  },
  {
    name: 'cgroupfs, the pod cgroup itself',
    path: `/kubepods/burstable/pod${UID}`,
    want: { kind: 'pod', driver: 'cgroupfs', qos: 'burstable', podUid: UID },
  },
  {
    name: 'kind node seen from the host (systemd inside a docker scope)',
    path: `/system.slice/docker-${NODE}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'containerd', nestedUnder: `/system.slice/docker-${NODE}.scope` },
  },
  {
    name: 'kind node seen from inside (its own cgroup namespace)',
    path: `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${UID_}.slice/cri-containerd-${CID}.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'guaranteed', podUid: UID, containerId: CID, runtime: 'containerd' },
  },
  {
    name: 'older kind, cgroupfs under /kubelet',
    path: `/kubelet/kubepods/burstable/pod${UID}/${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', qos: 'burstable', podUid: UID, containerId: CID, runtime: 'unknown' },
  },
  {
    name: 'kind with cgroupfs inside docker',
    path: `/docker/${NODE}/kubepods/besteffort/pod${UID}/${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'unknown', nestedUnder: `/docker/${NODE}` },
  },
  {
    name: 'static pod (hash uid)',
    path: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5f1e3a7d9c2b4e6f8a0b1c3d5e7f9a1b.slice/cri-containerd-' + CID + '.scope',
    want: { kind: 'container', driver: 'systemd', qos: 'burstable', podUid: '5f1e3a7d9c2b4e6f8a0b1c3d5e7f9a1b', containerId: CID, runtime: 'containerd' },
  },
  {
    name: 'systemd running inside a container (sub-cgroup)',
    path: `/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${CID}.scope/init.scope`,
    want: { kind: 'container', driver: 'systemd', qos: 'guaranteed', podUid: UID, containerId: CID, runtime: 'containerd', subpath: '/init.scope' },
  },
  {
    name: 'Kata shim and VMM in the pod cgroup (SandboxCgroupOnly, cgroupfs)',
    path: `/kubepods/besteffort/pod${UID}/kata_${SANDBOX}`,
    want: { kind: 'kata-sandbox', driver: 'cgroupfs', qos: 'besteffort', podUid: UID, containerId: SANDBOX, runtime: 'kata' },
  },
  {
    name: 'Kata sandbox cgroup with the systemd driver',
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/kata-${SANDBOX}.scope`,
    want: { kind: 'kata-sandbox', driver: 'systemd', qos: 'besteffort', podUid: UID, containerId: SANDBOX, runtime: 'kata' },
  },
  {
    name: 'Kata guest, kata-agent as init: the systemd cgroupsPath with its colons as slashes',
    path: `/kubepods-besteffort-pod${UID_}.slice/cri-containerd/${CID}`,
    want: { kind: 'container', driver: 'systemd', qos: 'besteffort', podUid: UID, containerId: CID, runtime: 'containerd' },
  },
  {
    name: 'Kata guest, guaranteed pod, CRI-O',
    path: `/kubepods-pod${UID_}.slice/crio/${CID}`,
    want: { kind: 'container', driver: 'systemd', qos: 'guaranteed', podUid: UID, containerId: CID, runtime: 'cri-o' },
  },
  {
    name: 'Kata guest, the pod cgroup the kata-agent created',
    path: `/kubepods-burstable-pod${UID_}.slice`,
    want: { kind: 'pod', driver: 'systemd', qos: 'burstable', podUid: UID },
  },
  {
    name: 'Kata guest, a runtime prefix without an id stays a subpath',
    path: `/kubepods-burstable-pod${UID_}.slice/cri-containerd`,
    want: { kind: 'pod', driver: 'systemd', qos: 'burstable', podUid: UID, subpath: '/cri-containerd' },
  },
  {
    name: 'Kata VMM overhead outside the pod (legacy mode)',
    path: `/kata_overhead/${SANDBOX}`,
    want: { kind: 'kata-overhead', containerId: SANDBOX, runtime: 'kata' },
  },
  {
    name: 'plain docker, systemd',
    path: `/system.slice/docker-${CID}.scope`,
    want: { kind: 'docker', containerId: CID, runtime: 'docker', driver: 'systemd' },
  },
  {
    name: 'plain docker, cgroupfs',
    path: `/docker/${CID}`,
    want: { kind: 'docker', containerId: CID, runtime: 'docker', driver: 'cgroupfs' },
  },
  // Podman 4.3 on Debian (cgroupfs manager, runc), read from /proc/PID/cgroup of a pod's container
  {
    name: 'podman pod, cgroupfs',
    path: `/libpod_parent/${PODMAN_POD}`,
    want: { kind: 'pod', driver: 'cgroupfs', runtime: 'podman', podUid: PODMAN_POD },
  },
  {
    name: 'podman pod container, cgroupfs',
    path: `/libpod_parent/${PODMAN_POD}/libpod-${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', runtime: 'podman', podUid: PODMAN_POD, containerId: CID },
  },
  {
    name: 'podman container without a pod',
    path: `/libpod_parent/libpod-${CID}`,
    want: { kind: 'container', driver: 'cgroupfs', runtime: 'podman', containerId: CID },
  },
  {
    name: 'podman pod container, systemd (with its inner cgroup)',
    path: `/machine.slice/machine-libpod_pod_${PODMAN_POD}.slice/libpod-${CID}.scope/container`,
    want: { kind: 'container', driver: 'systemd', runtime: 'podman', podUid: PODMAN_POD, containerId: CID, subpath: '/container' },
  },
  {
    name: 'podman conmon, systemd',
    path: `/machine.slice/machine-libpod_pod_${PODMAN_POD}.slice/libpod-conmon-${CID}.scope`,
    want: { kind: 'conmon', driver: 'systemd', runtime: 'podman', podUid: PODMAN_POD, containerId: CID },
  },
  { name: 'a systemd service is no container', path: '/system.slice/ssh.service', want: undefined },
  { name: 'katabot trace cgroup', path: '/katabot/trace-1234-1', want: undefined },
  { name: 'the root', path: '/', want: undefined },
  { name: 'a pod-like name that is not a UID', path: '/kubepods/besteffort/podnotauid/abc', want: undefined },
];

describe('parseCgroupPath', () => {
  for (const c of cases) it(c.name, () => assert.deepEqual(parseCgroupPath(c.path), c.want));
});

describe('helpers', () => {
  it('strips runtime schemes from container ids', () => {
    assert.equal(bareContainerId(`containerd://${CID}`), CID);
    assert.equal(bareContainerId(`cri-o://${CID}`), CID);
    assert.equal(bareContainerId(CID), CID);
  });

  it('reads the v2 line of /proc/PID/cgroup on unified and hybrid hosts', () => {
    assert.equal(parseProcCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), '/user.slice/user-0.slice/session-1.scope');
    assert.equal(parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/c98\n0::/\n'), '/');
    assert.equal(parseProcCgroup('4:memory:/x\n1:cpu:/\n'), undefined);
  });

  it('finds the cgroup2 mount: unified, hybrid, none', () => {
    const unified = '29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
    const hybrid = [
      '30 23 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup rw',
    ].join('\n');
    assert.equal(findCgroup2Mount(parseMountInfo(unified)), '/sys/fs/cgroup');
    assert.equal(findCgroup2Mount(parseMountInfo(hybrid)), '/sys/fs/cgroup/unified');
    assert.equal(findCgroup2Mount(parseMountInfo('31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n')), undefined);
  });

  it('unescapes octal escapes in mount points', () => {
    const [e] = parseMountInfo('50 23 0:40 / /mnt/with\\040space rw - cgroup2 none rw\n');
    assert.equal(e?.mountPoint, '/mnt/with space');
  });
});
