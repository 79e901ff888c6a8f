// Package instances on a cluster (imperative shell): create-and-start atomically, list, logs, delete with the
// maps flushed, upgrade with automatic rollback; packages kept in ConfigMaps. The objects come from
// src/bpf/cluster.ts; this file only talks to the API server (@kubernetes/client-node, KUBECONFIG).
//
// Atomic start: the ConfigMap and the Job/DaemonSet are created, then the revision's pods are watched until every
// one has attached its probes (the agent's readiness) or one failed (a compile error ends the container; its
// termination message is bpftrace's error). A failure, a timeout, or an error while creating deletes everything
// of that revision, found by label, so objects whose create response was lost go too.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  AppsV1Api, BatchV1Api, CoreV1Api, Log, PatchStrategy, Watch, setHeaderOptions,
  type KubeConfig, type V1ConfigMap, type V1DaemonSet, type V1Job, type V1Pod,
} from '@kubernetes/client-node';
import {
  AGENT_CONTAINER, PACKAGE_ANNOTATIONS, GRACE_SECONDS, INSTANCE_COMPONENT, PACKAGE_LABELS, MANAGED_BY, PACKAGE_COMPONENT,
  buildConfigMap, buildPackageConfigMap, buildWorkload, instanceObjectName, instanceParams, instanceRows, instanceStart,
  instanceTarget, newInstanceId, packageConfigMapName, type InstanceRow, type InstanceSpec, type InstanceTarget,
  type Workload,
} from '../bpf/cluster.ts';
import { PackageError, packageFromFiles, packageId, resolveParams, type BpfPackage } from '../bpf/package.ts';
import type { ClusterPackages } from './bpf-packages.ts';

/** A start that failed; everything it created is gone. */
export class BpfStartError extends Error {
  readonly pod: string | undefined;
  constructor(message: string, pod?: string) {
    super(message);
    this.name = 'BpfStartError';
    this.pod = pod;
  }
}

/** A user mistake about instances (unknown instance, no pod on that node). */
export class BpfClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BpfClusterError';
  }
}

export interface InstanceRunOptions {
  pkg: BpfPackage;
  /** --param values (strings) or resolved values. */
  params: Record<string, unknown>;
  target: { kind: 'nodes'; nodes: string[] } | { kind: 'all-nodes' } | { kind: 'pod'; namespace: string; name: string };
  durationSeconds?: number;
  image: string;
  /** How long the start may take (pulling the image, compiling). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface StartedInstance {
  id: string;
  revision: number;
  workload: Workload['kind'];
  name: string;
  target: InstanceTarget;
  pods: string[];
}

export interface FlushResult {
  pod: string;
  node: string | undefined;
  /** Trace events the instance wrote (its log), and whether its footer came: bpftrace printed its maps and ended. */
  events: number;
  footer: boolean;
}

/** Passes whole lines that are trace records (JSON objects); the agent's diagnostics (stderr, in the same log) are dropped. */
class TraceLineFilter extends Writable {
  readonly #out: (line: string) => void;
  #tail = '';
  constructor(out: (line: string) => void) {
    super({ decodeStrings: false });
    this.#out = out;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const parts = (this.#tail + chunk.toString()).split('\n');
    this.#tail = parts.pop() ?? '';
    for (const l of parts) if (l.startsWith('{')) this.#out(l);
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    if (this.#tail.startsWith('{')) this.#out(this.#tail);
    this.#tail = '';
    cb();
  }
}

function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

export class BpfCluster implements ClusterPackages {
  readonly namespace: string;
  readonly #kc: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;
  readonly #apps: AppsV1Api;

  constructor(kc: KubeConfig, namespace?: string) {
    this.#kc = kc;
    this.namespace = namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#batch = kc.makeApiClient(BatchV1Api);
    this.#apps = kc.makeApiClient(AppsV1Api);
  }

  // -------------------------------------------------------------------------------------------------------------
  // run

  async #resolveTarget(t: InstanceRunOptions['target']): Promise<InstanceTarget> {
    if (t.kind !== 'pod') return t;
    let pod: V1Pod;
    try {
      pod = await this.#core.readNamespacedPod({ name: t.name, namespace: t.namespace });
    } catch (e) {
      if (code(e) === 404) throw new BpfClusterError(`pod ${t.namespace}/${t.name} not found`);
      throw e;
    }
    const node = pod.spec?.nodeName;
    if (!node) throw new BpfClusterError(`pod ${t.namespace}/${t.name} is not scheduled to a node yet`);
    if (!pod.metadata?.uid) throw new BpfClusterError(`pod ${t.namespace}/${t.name} has no uid`);
    return { kind: 'pod', namespace: t.namespace, name: t.name, uid: pod.metadata.uid, node };
  }

  /** Creates and starts a new instance; on any failure nothing of it remains. */
  async run(o: InstanceRunOptions): Promise<StartedInstance> {
    const params = resolveParams(o.pkg.meta, o.params);
    const target = await this.#resolveTarget(o.target);
    const spec: InstanceSpec = {
      id: newInstanceId(o.pkg.meta.name, suffix()),
      revision: 1,
      namespace: this.namespace,
      pkg: o.pkg,
      params,
      target,
      image: o.image,
      ...(o.durationSeconds !== undefined ? { durationSeconds: o.durationSeconds } : {}),
    };
    return this.#start(spec, o.timeoutMs ?? 120_000, o.log);
  }

  async #start(spec: InstanceSpec, timeoutMs: number, log?: (line: string) => void): Promise<StartedInstance> {
    const cm = buildConfigMap(spec);
    const w = buildWorkload(spec);
    const name = instanceObjectName(spec.id, spec.revision);
    const ns = this.namespace;
    try {
      await this.#core.createNamespacedConfigMap({ namespace: ns, body: cm });
      log?.(`configmap/${name} created`);
      const created: V1Job | V1DaemonSet = w.kind === 'Job'
        ? await this.#batch.createNamespacedJob({ namespace: ns, body: w.object })
        : await this.#apps.createNamespacedDaemonSet({ namespace: ns, body: w.object });
      log?.(`${w.kind.toLowerCase()}.${w.kind === 'Job' ? 'batch' : 'apps'}/${name} created`);
      // the ConfigMap goes with its workload when something else deletes it (kubectl delete job …)
      await this.#core.patchNamespacedConfigMap({
        name, namespace: ns,
        body: { metadata: { ownerReferences: [{ apiVersion: w.object.apiVersion!, kind: w.kind, name, uid: created.metadata!.uid!, blockOwnerDeletion: false }] } },
      }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      const pods = await this.#waitStarted(spec, w.kind, timeoutMs, log);
      return { id: spec.id, revision: spec.revision, workload: w.kind, name, target: spec.target, pods };
    } catch (err) {
      log?.(`start failed, removing revision ${spec.revision} of ${spec.id}`);
      await this.#removeRevision(spec.id, spec.revision).catch((e: unknown) => log?.(`cleanup: ${(e as Error).message}`));
      if (err instanceof BpfStartError) throw err;
      throw new BpfStartError(`cannot create instance ${spec.id}: ${(err as Error).message}`);
    }
  }

  /** list + watch of one resource path, re-listing when a watch ends; calls `onChange` with the current items. */
  #watchList<T extends { metadata?: { name?: string; resourceVersion?: string } }>(
    path: string, list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, selector: Record<string, string>,
    onChange: (items: T[]) => void, onError: (err: Error) => void,
  ): () => void {
    const items = new Map<string, T>();
    let stopped = false;
    let controller: AbortController | undefined;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        const l = await list();
        items.clear();
        for (const i of l.items) items.set(i.metadata?.name ?? '', i);
        onChange([...items.values()]);
        if (stopped) return;
        await new Promise<void>((resolve) => {
          void new Watch(this.#kc).watch(path, { ...selector, resourceVersion: l.metadata?.resourceVersion, allowWatchBookmarks: true }, (phase, obj: T) => {
            if (phase === 'BOOKMARK' || phase === 'ERROR') return;
            const key = obj.metadata?.name ?? '';
            if (phase === 'DELETED') items.delete(key);
            else items.set(key, obj);
            onChange([...items.values()]);
          }, () => resolve()).then((c) => {
            controller = c;
            if (stopped) c.abort();
          }, (err: unknown) => {
            onError(err as Error);
            resolve();
          });
        });
      }
    };
    loop().catch((err: unknown) => { if (!stopped) onError(err as Error); });
    return () => {
      stopped = true;
      controller?.abort();
    };
  }

  /** Waits with watches until every pod of the revision runs its probes, or one fails. Returns the pods. */
  #waitStarted(spec: InstanceSpec, kind: Workload['kind'], timeoutMs: number, log?: (line: string) => void): Promise<string[]> {
    const ns = this.namespace;
    const name = instanceObjectName(spec.id, spec.revision);
    const selector = `${PACKAGE_LABELS.instance}=${spec.id},${PACKAGE_LABELS.revision}=${spec.revision}`;
    return new Promise<string[]>((resolve, reject) => {
      let pods: V1Pod[] = [];
      let workload: Workload | undefined = kind === 'Job' ? { kind: 'Job', object: {} as V1Job } : undefined;
      let lastReason: string | undefined;
      let settled = false;
      const stops: Array<() => void> = [];
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const s of stops) s();
        if (err) reject(err);
        else resolve(pods.map((p) => p.metadata?.name ?? '').sort());
      };
      const evaluate = (): void => {
        if (!workload) return;
        const st = instanceStart(workload, pods);
        if (!st.done) {
          if (st.reason && st.reason !== lastReason) log?.(`waiting: ${st.reason}`);
          lastReason = st.reason ?? lastReason;
          return;
        }
        if (st.ok) finish();
        else finish(new BpfStartError(`${packageId(spec.pkg.meta)} did not start${st.pod ? ` (pod ${st.pod})` : ''}: ${st.reason}`, st.pod));
      };
      const timer = setTimeout(() => finish(new BpfStartError(`${packageId(spec.pkg.meta)} did not start within ${Math.round(timeoutMs / 1000)} s${lastReason ? ` (${lastReason})` : ''}`)), timeoutMs);
      const onError = (err: Error): void => finish(new BpfStartError(`watching the start of ${name}: ${err.message}`));
      stops.push(this.#watchList<V1Pod>(`/api/v1/namespaces/${ns}/pods`, () => this.#core.listNamespacedPod({ namespace: ns, labelSelector: selector }), { labelSelector: selector }, (items) => {
        pods = items;
        evaluate();
      }, onError));
      if (kind === 'DaemonSet') {
        const field = `metadata.name=${name}`;
        stops.push(this.#watchList<V1DaemonSet>(`/apis/apps/v1/namespaces/${ns}/daemonsets`, () => this.#apps.listNamespacedDaemonSet({ namespace: ns, fieldSelector: field }), { fieldSelector: field }, (items) => {
          const ds = items[0];
          if (!ds) {
            if (workload) finish(new BpfStartError(`daemonset ${name} was deleted while starting`));
            return;
          }
          workload = { kind: 'DaemonSet', object: ds };
          evaluate();
        }, onError));
      }
    });
  }

  /** Deletes every object of one revision (by label), pods included. */
  async #removeRevision(id: string, revision: number | undefined): Promise<void> {
    const ns = this.namespace;
    const labelSelector = `${PACKAGE_LABELS.instance}=${id}${revision !== undefined ? `,${PACKAGE_LABELS.revision}=${revision}` : ''}`;
    const ignore404 = (e: unknown): void => { if (code(e) !== 404) throw e; };
    for (const j of (await this.#batch.listNamespacedJob({ namespace: ns, labelSelector })).items) {
      await this.#batch.deleteNamespacedJob({ name: j.metadata!.name!, namespace: ns, propagationPolicy: 'Background' }).catch(ignore404);
    }
    for (const d of (await this.#apps.listNamespacedDaemonSet({ namespace: ns, labelSelector })).items) {
      await this.#apps.deleteNamespacedDaemonSet({ name: d.metadata!.name!, namespace: ns, propagationPolicy: 'Background' }).catch(ignore404);
    }
    // pods go without waiting for the garbage collector (a Job's pods would otherwise outlive a failed start)
    for (const p of (await this.#core.listNamespacedPod({ namespace: ns, labelSelector })).items) {
      await this.#core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: ns }).catch(ignore404);
    }
    for (const c of (await this.#core.listNamespacedConfigMap({ namespace: ns, labelSelector })).items) {
      await this.#core.deleteNamespacedConfigMap({ name: c.metadata!.name!, namespace: ns }).catch(ignore404);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // list, logs

  async #objects(labelSelector: string): Promise<{ configMaps: V1ConfigMap[]; jobs: V1Job[]; daemonSets: V1DaemonSet[]; pods: V1Pod[] }> {
    const ns = this.namespace;
    const [configMaps, jobs, daemonSets, pods] = await Promise.all([
      this.#core.listNamespacedConfigMap({ namespace: ns, labelSelector }),
      this.#batch.listNamespacedJob({ namespace: ns, labelSelector }),
      this.#apps.listNamespacedDaemonSet({ namespace: ns, labelSelector }),
      this.#core.listNamespacedPod({ namespace: ns, labelSelector }),
    ]);
    return { configMaps: configMaps.items, jobs: jobs.items, daemonSets: daemonSets.items, pods: pods.items };
  }

  async list(): Promise<InstanceRow[]> {
    return instanceRows(await this.#objects(`${PACKAGE_LABELS.managedBy}=${MANAGED_BY},${PACKAGE_LABELS.component}=${INSTANCE_COMPONENT}`));
  }

  async instance(id: string): Promise<InstanceRow> {
    const rows = instanceRows(await this.#objects(`${PACKAGE_LABELS.instance}=${id}`));
    const row = rows.find((r) => r.id === id);
    if (!row) {
      const all = (await this.list()).map((r) => r.id);
      throw new BpfClusterError(`no instance ${id} in namespace ${this.namespace}${all.length ? ` (instances: ${all.join(', ')})` : ''}`);
    }
    return row;
  }

  async #podsOf(id: string, revision?: number): Promise<V1Pod[]> {
    const labelSelector = `${PACKAGE_LABELS.instance}=${id}${revision !== undefined ? `,${PACKAGE_LABELS.revision}=${revision}` : ''}`;
    return (await this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items
      .sort((a, b) => (a.spec?.nodeName ?? '').localeCompare(b.spec?.nodeName ?? ''));
  }

  /** Streams one pod's trace lines; resolves when the log ends (the container exited, or not following). */
  async #follow(pod: V1Pod, follow: boolean, onLine: (line: string) => void): Promise<{ done: Promise<void>; abort: () => void }> {
    const filter = new TraceLineFilter(onLine);
    const done = new Promise<void>((resolve) => {
      filter.on('finish', () => resolve());
      filter.on('error', () => resolve());
    });
    const controller = await new Log(this.#kc).log(this.namespace, pod.metadata!.name!, AGENT_CONTAINER, filter, { follow });
    return { done, abort: () => { controller.abort(); filter.end(); } };
  }

  /** The instance's trace: its current revision's pods (one node with `node`), one trace per pod, in node order. */
  async logs(id: string, o: { follow: boolean; node?: string; write: (line: string) => void }): Promise<void> {
    const row = await this.instance(id);
    let pods = await this.#podsOf(id, row.revision);
    if (o.node !== undefined) pods = pods.filter((p) => p.spec?.nodeName === o.node);
    if (pods.length === 0) throw new BpfClusterError(`instance ${id} has no pod${o.node !== undefined ? ` on node ${o.node}` : ''} (state ${row.state})`);
    if (!o.follow) {
      for (const p of pods) await (await this.#follow(p, false, o.write)).done;
      return;
    }
    const streams = await Promise.all(pods.map((p) => this.#follow(p, true, o.write)));
    await Promise.all(streams.map((s) => s.done));
  }

  // -------------------------------------------------------------------------------------------------------------
  // delete, upgrade

  /**
   * Stops pods and waits for their traces to end: each pod's log is followed, then the pod is deleted; the kubelet's
   * SIGTERM reaches `katabot bpf agent`, which sends SIGINT to bpftrace so END runs and the maps are printed.
   */
  async #stopWithFlush(pods: V1Pod[], write: ((pod: string, line: string) => void) | undefined, deleteOwners: () => Promise<void>): Promise<FlushResult[]> {
    const results = new Map<string, FlushResult>();
    const streams: Array<{ done: Promise<void>; abort: () => void }> = [];
    for (const p of pods) {
      const name = p.metadata!.name!;
      const r: FlushResult = { pod: name, node: p.spec?.nodeName, events: 0, footer: false };
      results.set(name, r);
      const running = p.status?.containerStatuses?.find((c) => c.name === AGENT_CONTAINER)?.state?.running !== undefined || p.status?.phase === 'Running';
      try {
        streams.push(await this.#follow(p, running, (line) => {
          if (line.startsWith('{"type":"event"')) r.events++;
          else if (line.startsWith('{"type":"footer"')) r.footer = true;
          write?.(name, line);
        }));
      } catch {
        // no log (the container never started): nothing to flush
      }
    }
    await deleteOwners();
    for (const p of pods) {
      await this.#core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: this.namespace, gracePeriodSeconds: GRACE_SECONDS }).catch((e: unknown) => { if (code(e) !== 404) throw e; });
    }
    const deadline = new Promise<void>((resolve) => { const t = setTimeout(resolve, (GRACE_SECONDS + 15) * 1000); t.unref(); });
    await Promise.race([Promise.all(streams.map((s) => s.done)), deadline]);
    for (const s of streams) s.abort();
    return [...results.values()];
  }

  /** Deletes an instance (every revision): SIGINT to bpftrace through pod deletion, traces flushed, objects removed. */
  async delete(id: string, o: { write?: (pod: string, line: string) => void } = {}): Promise<FlushResult[]> {
    await this.instance(id);
    const pods = (await this.#podsOf(id)).filter((p) => !p.metadata?.deletionTimestamp);
    const results = await this.#stopWithFlush(pods, o.write, async () => {
      const ns = this.namespace;
      const labelSelector = `${PACKAGE_LABELS.instance}=${id}`;
      for (const j of (await this.#batch.listNamespacedJob({ namespace: ns, labelSelector })).items) {
        await this.#batch.deleteNamespacedJob({ name: j.metadata!.name!, namespace: ns, propagationPolicy: 'Orphan' }).catch((e: unknown) => { if (code(e) !== 404) throw e; });
      }
      for (const d of (await this.#apps.listNamespacedDaemonSet({ namespace: ns, labelSelector })).items) {
        await this.#apps.deleteNamespacedDaemonSet({ name: d.metadata!.name!, namespace: ns, propagationPolicy: 'Orphan' }).catch((e: unknown) => { if (code(e) !== 404) throw e; });
      }
    });
    await this.#removeRevision(id, undefined);
    return results;
  }

  /**
   * Starts the instance's next revision with `pkg` next to the current one; once it runs, the current revision is
   * stopped (maps flushed). A failed start removes the new revision: the instance goes on with the version it had.
   */
  async upgrade(id: string, pkg: BpfPackage, o: { params?: Record<string, string>; image?: string; timeoutMs?: number; log?: (line: string) => void; write?: (pod: string, line: string) => void }): Promise<{ from: string; to: string; revision: number; flushed: FlushResult[] }> {
    const row = await this.instance(id);
    if (!row.workload) throw new BpfClusterError(`instance ${id} has no running revision to upgrade`);
    if (pkg.meta.name !== row.package) throw new BpfClusterError(`instance ${id} runs package ${row.package}, not ${pkg.meta.name}`);
    const ns = this.namespace;
    const w = row.workload.kind === 'Job'
      ? await this.#batch.readNamespacedJob({ name: row.workload.name, namespace: ns })
      : await this.#apps.readNamespacedDaemonSet({ name: row.workload.name, namespace: ns });
    const target = instanceTarget(w.metadata);
    if (!target) throw new BpfClusterError(`instance ${id}: ${row.workload.name} has no ${PACKAGE_ANNOTATIONS.target} annotation`);
    // parameters carry over when the new version still has them; --param overrides
    const old = instanceParams(w.metadata);
    const carried = Object.fromEntries(Object.entries(old).filter(([k]) => pkg.meta.parameters.some((p) => p.name === k)));
    let params;
    try {
      params = resolveParams(pkg.meta, { ...carried, ...(o.params ?? {}) });
    } catch (err) {
      if (err instanceof PackageError) throw new BpfClusterError(`upgrade ${id}: ${err.message}`);
      throw err;
    }
    const image = o.image ?? w.spec?.template.spec?.containers.find((c) => c.name === AGENT_CONTAINER)?.image;
    const duration = w.metadata?.annotations?.[PACKAGE_ANNOTATIONS.duration];
    const from = `${row.package}@${row.version}`;
    const spec: InstanceSpec = {
      id, revision: row.revision + 1, namespace: ns, pkg, params, target, image: image!,
      ...(duration !== undefined ? { durationSeconds: Number(duration) } : {}),
    };
    try {
      await this.#start(spec, o.timeoutMs ?? 120_000, o.log);
    } catch (err) {
      throw new BpfStartError(`upgrade of ${id} to ${packageId(pkg.meta)} failed, rolled back: ${id} still runs ${from} (revision ${row.revision}). ${(err as Error).message}`, (err as BpfStartError).pod);
    }
    const oldPods = (await this.#podsOf(id, row.revision)).filter((p) => !p.metadata?.deletionTimestamp);
    const flushed = await this.#stopWithFlush(oldPods, o.write, async () => {
      if (row.workload!.kind === 'Job') await this.#batch.deleteNamespacedJob({ name: row.workload!.name, namespace: ns, propagationPolicy: 'Orphan' }).catch(() => undefined);
      else await this.#apps.deleteNamespacedDaemonSet({ name: row.workload!.name, namespace: ns, propagationPolicy: 'Orphan' }).catch(() => undefined);
    });
    await this.#removeRevision(id, row.revision);
    return { from, to: packageId(pkg.meta), revision: spec.revision, flushed };
  }

  // -------------------------------------------------------------------------------------------------------------
  // packages in ConfigMaps

  async listPackages(): Promise<BpfPackage[]> {
    const cms = await this.#core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: `${PACKAGE_LABELS.component}=${PACKAGE_COMPONENT}` });
    const out: BpfPackage[] = [];
    for (const cm of cms.items) {
      const name = cm.metadata?.name ?? '?';
      try {
        out.push(packageFromFiles(cm.data ?? {}, { kind: 'cluster', namespace: this.namespace, configMap: name }, `configmap/${name}`));
      } catch {
        // a broken package ConfigMap is shown by `katabot bpf show` when asked for; listings skip it
      }
    }
    return out;
  }

  /** Stores a package in a ConfigMap (created or replaced). */
  async pushPackage(pkg: BpfPackage): Promise<string> {
    const body = buildPackageConfigMap(pkg, this.namespace);
    const name = packageConfigMapName(pkg.meta);
    try {
      await this.#core.createNamespacedConfigMap({ namespace: this.namespace, body });
    } catch (e) {
      if (code(e) !== 409) throw e;
      await this.#core.replaceNamespacedConfigMap({ name, namespace: this.namespace, body });
    }
    return name;
  }
}
