// The ProwJob custom resource (prow.k8s.io/v1) and the label and annotation keys Prow gives it. Field names follow
// Prow's JSON names exactly, so objects round-trip through YAML and the API server.
import type { DecorationConfig, PodSpec, Refs } from '../config/prow-types.ts';

export type ProwJobType = 'presubmit' | 'postsubmit' | 'periodic' | 'batch';
export type ProwJobState = 'scheduling' | 'triggered' | 'pending' | 'success' | 'failure' | 'aborted' | 'error';

export interface ProwJobSpec {
  type: ProwJobType;
  agent?: 'kubernetes' | 'jenkins' | 'tekton-pipeline';
  cluster?: string;
  namespace?: string;
  job: string;
  refs?: Refs;
  extra_refs?: Refs[];
  report?: boolean;
  context?: string;
  rerun_command?: string;
  max_concurrency?: number;
  pod_spec?: PodSpec;
  decoration_config?: DecorationConfig;
  [key: string]: unknown;
}

export interface ProwJobStatus {
  startTime?: string;
  pendingTime?: string;
  completionTime?: string;
  state?: ProwJobState;
  description?: string;
  url?: string;
  pod_name?: string;
  build_id?: string;
  prev_report_states?: Record<string, ProwJobState>;
  [key: string]: unknown;
}

export interface ProwJob {
  apiVersion: 'prow.k8s.io/v1';
  kind: 'ProwJob';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  spec: ProwJobSpec;
  status?: ProwJobStatus;
}

/** Prow's label keys, in one place so every module spells them the same. */
export const LABELS = {
  createdByProw: 'created-by-prow',
  type: 'prow.k8s.io/type',
  job: 'prow.k8s.io/job',
  context: 'prow.k8s.io/context',
  org: 'prow.k8s.io/refs.org',
  repo: 'prow.k8s.io/refs.repo',
  baseRef: 'prow.k8s.io/refs.base_ref',
  pull: 'prow.k8s.io/refs.pull',
  eventGuid: 'event-GUID',
  isOptional: 'prow.k8s.io/is-optional',
  retest: 'prow.k8s.io/retest',
  trace: 'katabot.dev/trace',
} as const;

export const ANNOTATIONS = {
  job: 'prow.k8s.io/job',
  context: 'prow.k8s.io/context',
} as const;
