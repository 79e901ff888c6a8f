// Where the reporter learns about ProwJobs: list+watch on Kubernetes (an informer from @kubernetes/client-node),
// or polling the YAML files of the file-based client when there is no cluster.
//
// The informer re-lists on its own after 410 Gone (compaction) and resumes from its last resourceVersion after a
// graceful end of the watch or a client-side timeout. On any other error it stops; this source restarts it with
// backoff. After every (re-)list and every restart, all known jobs are handed to onResync, so the reporter
// reconciles level-triggered after any gap, and a periodic resync repairs anything a failed report left behind.
import { CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PROWJOB_GROUP, PROWJOB_PLURAL, PROWJOB_VERSION, type ProwJobClient } from '../adapters/kube.ts';
import type { ProwJob } from '../jobs/types.ts';

interface SourceHandlers {
  /** A job was added or changed. */
  onJob(pj: ProwJob): void;
  /** The full current set, after a (re-)list, a restart or a periodic resync. */
  onResync(all: readonly ProwJob[]): void;
}

export interface ProwJobSource {
  start(handlers: SourceHandlers): Promise<void>;
  stop(): Promise<void>;
  /** The latest known version of a job. */
  get(name: string): ProwJob | undefined;
}

export interface InformerOptions {
  /** Hand every known job to onResync this often (0: never). */
  resyncMs: number;
  /** First restart delay after a watch error; doubles up to 30 s. */
  restartDelayMs?: number;
}

export function informerSource(kc: KubeConfig, namespace: string, log: Logger, opts: InformerOptions): ProwJobSource {
  const api = kc.makeApiClient(CustomObjectsApi);
  const path = `/apis/${PROWJOB_GROUP}/${PROWJOB_VERSION}/namespaces/${namespace}/${PROWJOB_PLURAL}`;
  const firstDelay = opts.restartDelayMs ?? 1000;
  // ProwJobs are plain JSON here (creationTimestamp stays a string); the informer's generic wants Date.
  let informer: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>) | undefined;
  const asJob = (o: KubernetesObject | undefined): ProwJob | undefined => o as unknown as ProwJob | undefined;
  let handlers: SourceHandlers | undefined;
  let stopped = true;
  let delay = firstDelay;
  let restartTimer: NodeJS.Timeout | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;

  const all = (): ProwJob[] => (informer?.list(namespace) ?? []) as unknown as ProwJob[];
  const resync = () => {
    if (!stopped && handlers) handlers.onResync(all());
  };

  const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const list = (await api.listNamespacedCustomObject({ group: PROWJOB_GROUP, version: PROWJOB_VERSION, namespace, plural: PROWJOB_PLURAL })) as KubernetesListObject<KubernetesObject>;
    delay = firstDelay;
    log.debug({ count: list.items.length, resourceVersion: list.metadata?.resourceVersion }, 'prowjobs listed');
    // After the informer has stored the list (it does so right after this resolves).
    setImmediate(() => {
      if (!stopped) handlers?.onResync(list.items as unknown as ProwJob[]);
    });
    return list;
  };

  const restart = () => {
    if (stopped || restartTimer) return;
    const wait = delay;
    delay = Math.min(delay * 2, 30_000);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped || !informer) return;
      informer
        .start()
        .then(() => resync())
        .catch((err: Error) => {
          log.warn({ err: err.message }, 'prowjob watch restart failed');
          restart();
        });
    }, wait);
    restartTimer.unref();
  };

  return {
    async start(h) {
      handlers = h;
      stopped = false;
      delay = firstDelay;
      informer = makeInformer<KubernetesObject>(kc, path, listFn);
      informer.on('add', (o) => h.onJob(asJob(o)!));
      informer.on('update', (o) => h.onJob(asJob(o)!));
      informer.on('error', (err: unknown) => {
        if (stopped) return;
        log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'prowjob watch failed; restarting');
        restart();
      });
      if (opts.resyncMs > 0) resyncTimer = setInterval(resync, opts.resyncMs).unref();
      await informer.start();
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (resyncTimer) clearInterval(resyncTimer);
      restartTimer = resyncTimer = undefined;
      await informer?.stop();
      informer = undefined;
    },
    get(name) {
      return asJob(informer?.get(name, namespace));
    },
  };
}

/** Polls the file-based ProwJob client (KUBECONFIG unset): same contract, no watch. */
export function pollingSource(client: ProwJobClient, intervalMs: number, log: Logger): ProwJobSource {
  const known = new Map<string, ProwJob>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let handlers: SourceHandlers | undefined;

  const poll = async (first: boolean) => {
    try {
      const jobs = await client.list({});
      for (const pj of jobs) {
        const prev = known.get(pj.metadata.name);
        known.set(pj.metadata.name, pj);
        if (!first && prev?.metadata.resourceVersion !== pj.metadata.resourceVersion) handlers?.onJob(pj);
      }
      if (first) handlers?.onResync([...jobs]);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'listing prowjobs failed');
    }
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll(false).finally(loop), intervalMs).unref();
  };

  return {
    async start(h) {
      handlers = h;
      stopped = false;
      await poll(true);
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    get(name) {
      return known.get(name);
    },
  };
}
