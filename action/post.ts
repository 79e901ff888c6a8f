// The katabot action's post step (action.yml runs.post, always run after the job's last step, failed or not):
// run the collect hook, stop the tracer so the trace covers every step, gather the artifact (trace, ignore rules,
// apiserver audit logs, the /openapi/v2 capture, guest traces, katabot.json), upload it, and write the job summary.
// It never fails the job: whatever goes wrong is said in the summary and as a warning.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as core from '@actions/core';
import {
  ARTIFACT_FILES, MANIFEST_FILE, buildManifest, headerAndFooter, runFacts, summaryMarkdown,
  type ActionInputs, type ActionPaths, type Manifest, type TraceStatus,
} from './plan.ts';
import { copyAsRoot, head, listFiles, logTail, relativeFiles, runCollectCommand, stopTracer, tail } from './runner.ts';
import { STATE } from './state.ts';

function parse<T>(raw: string): T | undefined {
  try {
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** The trace as the tracer left it: header and footer, or why there is none. */
function traceStatus(paths: ActionPaths, ended: string): TraceStatus {
  const ends = headerAndFooter(head(paths.trace), tail(paths.trace, 4096).trimEnd().split('\n').pop() ?? '');
  if (!ends) return { state: 'failed', reason: `the tracer wrote no trace (${ended}): ${logTail(paths) || 'no output'}` };
  return { state: 'traced', header: ends.header, footer: ends.footer };
}

/** Puts everything the artifact holds under paths.artifactDir and writes katabot.json. Returns the manifest. */
async function prepare(inputs: ActionInputs, paths: ActionPaths, status: TraceStatus, problems: string[]): Promise<Manifest> {
  const dir = paths.artifactDir;
  const files: Manifest['files'] = { audit: [], guest: [] };
  if (existsSync(paths.trace)) files.trace = ARTIFACT_FILES.trace;
  if (inputs.ignore.trim() !== '') {
    writeFileSync(join(dir, ARTIFACT_FILES.ignore), inputs.ignore.endsWith('\n') ? inputs.ignore : `${inputs.ignore}\n`);
    files.ignore = ARTIFACT_FILES.ignore;
  }
  for (const [i, log] of inputs.auditLogs.entries()) {
    const name = `${ARTIFACT_FILES.auditDir}/${i}-${basename(log)}`;
    try {
      await copyAsRoot(log, join(dir, name));
      files.audit.push(name);
    } catch (err) {
      problems.push(`audit log: ${(err as Error).message}`);
    }
  }
  if (inputs.openapi !== '') {
    try {
      copyFileSync(inputs.openapi, join(dir, ARTIFACT_FILES.openapi));
      files.openapi = ARTIFACT_FILES.openapi;
    } catch (err) {
      problems.push(`openapi: cannot read ${inputs.openapi}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  files.guest = relativeFiles(dir, ARTIFACT_FILES.guestDir);
  let event: unknown;
  try {
    event = process.env['GITHUB_EVENT_PATH'] ? JSON.parse(readFileSync(process.env['GITHUB_EVENT_PATH'], 'utf8')) : undefined;
  } catch {
    event = undefined;
  }
  const manifest = buildManifest(inputs, runFacts(process.env, event as Parameters<typeof runFacts>[1]), status, files);
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function upload(inputs: ActionInputs, paths: ActionPaths): Promise<{ ok: true; id?: number; size?: number } | { ok: false; reason: string }> {
  if (!process.env['ACTIONS_RUNTIME_TOKEN'] || !process.env['ACTIONS_RESULTS_URL']) {
    return { ok: false, reason: 'not running on GitHub Actions (ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL is unset); the files are in ' + paths.artifactDir };
  }
  try {
    // Loaded here: only an upload needs the artifact client.
    const { DefaultArtifactClient } = await import('@actions/artifact');
    const r = await new DefaultArtifactClient().uploadArtifact(inputs.artifactName, listFiles(paths.artifactDir), paths.artifactDir, {
      ...(inputs.retentionDays !== undefined ? { retentionDays: inputs.retentionDays } : {}),
    });
    return { ok: true, ...(r.id !== undefined ? { id: r.id } : {}), ...(r.size !== undefined ? { size: r.size } : {}) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

async function post(): Promise<void> {
  const inputs = parse<ActionInputs>(core.getState(STATE.inputs));
  const paths = parse<ActionPaths>(core.getState(STATE.paths));
  const state = core.getState(STATE.state);
  if (!inputs || !paths || state !== 'tracing') {
    const reason = core.getState(STATE.reason) || 'the main step did not start the tracer';
    const named = inputs ?? { name: process.env['GITHUB_JOB'] ?? 'job', artifactName: '', scope: { kind: 'runner' as const } };
    await core.summary.addRaw(summaryMarkdown(named, { state: 'failed', reason }, undefined)).write();
    return;
  }
  const problems: string[] = [];
  if (inputs.collectCommand !== '') {
    try {
      core.info(await runCollectCommand(inputs.collectCommand, paths.artifactDir));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const ended = await stopTracer(paths, Number(core.getState(STATE.pid)));
  if (ended !== 'stopped') problems.push(`the tracer had to be ${ended === 'gone' ? 'found gone (it ended early)' : ended}`);
  const status = traceStatus(paths, ended);
  let result: Awaited<ReturnType<typeof upload>> | undefined;
  if (status.state === 'traced') {
    await prepare(inputs, paths, status, problems);
    result = await upload(inputs, paths);
    core.setOutput('artifact-name', inputs.artifactName);
  }
  let text = summaryMarkdown(inputs, status, result);
  if (problems.length > 0) text += `\n${problems.map((p) => `- ${p}`).join('\n')}\n`;
  await core.summary.addRaw(text).write();
  for (const p of problems) core.warning(`katabot trace: ${p}`);
  if (result && !result.ok) core.warning(`katabot trace: not uploaded: ${result.reason}`);
  if (status.state === 'failed') core.warning(`katabot trace: ${status.reason}`);
}

try {
  await post();
} catch (err) {
  // never the job's failure: tracing is an observer
  core.warning(`katabot trace: post step failed: ${(err as Error).message}`);
}
