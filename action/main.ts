// The katabot action's main step (action.yml runs.main): read the inputs, make sure bpftrace is there, start the
// tracer detached as root on the runner (or a cgroup subtree, or the steps run through `katabot-traced`) and wait
// until its probes are attached, so every later step, the PR's checkout included, runs traced. Tracing never fails
// the job: any failure is saved for the post step, which says why in the job summary.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { cgroup2Root } from '../src/tracer/cgroup-fs.ts';
import { actionPaths, parseInputs, stepsCgroup, tracedWrapper, tracerArgs, type ActionInputs } from './plan.ts';
import { checkRoot, ensureBpftrace, isRoot, startTracer, waitReady, writeExecutable, type StartedTracer } from './runner.ts';
import { STATE } from './state.ts';

const TRACER_JS = fileURLToPath(new URL('./tracer.js', import.meta.url));

async function main(): Promise<void> {
  let inputs: ActionInputs;
  try {
    inputs = parseInputs((name) => core.getInput(name), process.env);
  } catch (err) {
    core.saveState(STATE.state, 'failed');
    core.saveState(STATE.reason, (err as Error).message);
    core.warning(`katabot trace: not tracing: ${(err as Error).message}`);
    return;
  }
  const paths = actionPaths(process.env['RUNNER_TEMP'] ?? '/tmp', inputs.name);
  core.saveState(STATE.inputs, JSON.stringify(inputs));
  core.saveState(STATE.paths, JSON.stringify(paths));
  let tracer: StartedTracer | undefined;
  try {
    rmSync(paths.dir, { recursive: true, force: true });
    mkdirSync(paths.artifactDir, { recursive: true });
    // hooks (a guest tracer's collector) put their traces under $KATABOT_TRACE_DIR/guest/
    core.exportVariable('KATABOT_TRACE_DIR', paths.artifactDir);
    core.setOutput('trace-dir', paths.artifactDir);
    await checkRoot();
    await ensureBpftrace(inputs.install, (line) => core.info(line));
    if (inputs.scope.kind === 'steps') {
      const dir = join(cgroup2Root(), stepsCgroup(process.env, inputs.name));
      writeExecutable(join(paths.binDir, 'katabot-traced'), tracedWrapper(dir, isRoot()));
      core.addPath(paths.binDir);
      core.exportVariable('KATABOT_TRACE_CGROUP', dir);
    }
    const env: Record<string, string> = inputs.allowAnyBpftrace ? { KATABOT_BPFTRACE_ANY_VERSION: '1' } : {};
    tracer = startTracer(TRACER_JS, tracerArgs(inputs, paths, process.env), paths, env);
    core.saveState(STATE.pid, String(tracer.pid));
    await waitReady(paths, tracer, inputs.readyTimeoutSeconds * 1000);
    core.saveState(STATE.state, 'tracing');
    core.setOutput('status', 'tracing');
    core.info(`katabot trace: tracing ${inputs.scope.kind === 'runner' ? 'this runner' : inputs.scope.kind === 'steps' ? 'commands run through katabot-traced' : inputs.scope.path}; the trace is uploaded as ${inputs.artifactName} after the job's last step`);
  } catch (err) {
    const reason = (err as Error).message;
    core.saveState(STATE.state, 'failed');
    core.saveState(STATE.reason, reason);
    core.setOutput('status', 'failed');
    core.warning(`katabot trace: not tracing: ${reason}`);
  }
}

try {
  await main();
} catch (err) {
  // never the job's failure: tracing is an observer
  core.warning(`katabot trace: ${(err as Error).message}`);
}
