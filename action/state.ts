// What the katabot action's main step hands its post step (core.saveState / core.getState).
export const STATE = {
  /** `tracing` or `failed` */
  state: 'katabot-state',
  reason: 'katabot-reason',
  inputs: 'katabot-inputs',
  paths: 'katabot-paths',
  /** the process main started (sudo, or the tracer when root) */
  pid: 'katabot-pid',
} as const;
