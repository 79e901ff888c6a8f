// What one parsed command may do, given who said it and the PR's trust. Prow's trigger plugin
// (generic-comment.go) plus katabot's /ok-to-test-tdx and /trace. Pure: no I/O.
import type { KatabotConfig } from '../config/types.ts';
import type { ParsedCommand } from '../commands/types.ts';
import { LABEL, hasLabel } from './labels.ts';
import { isTdxApprover, isTdxLabel } from './tdx.ts';

export interface CommandContext {
  policy: KatabotConfig;
  commenter: string;
  /** userTrustStep ended in trusted for the commenter. */
  commenterTrusted: boolean;
  /** pullRequestTrusted(author trusted, labels). */
  prTrusted: boolean;
  /** The PR's current labels. */
  labels: readonly string[];
}

export type ReplyKind =
  | 'untrusted' // Prow: "Cannot trigger testing until a trusted user reviews the PR and leaves an /ok-to-test message."
  | 'ok-to-test-ignored' // ignore_ok_to_test: /ok-to-test and /ok-to-test cancel do nothing
  | 'cancel-untrusted' // Prow: "Only trusted users can revoke /ok-to-test."
  | 'tdx-not-approver' // /ok-to-test-tdx from someone not in tdx.approvers
  | 'tdx-untrusted-pr' // /ok-to-test-tdx by an approver on an untrusted PR while ignore_ok_to_test is set
  | 'trace-untrusted'; // /trace needs a trusted commenter and a trusted PR

export interface CommandDecision {
  /**
   * Carry out the command: start its jobs (test, test-all, retest, retest-required, test-manual-required,
   * ok-to-test: the /test all set, ok-to-test-tdx: the TDX jobs, trace), or answer it with help (help,
   * test-help, retest-with-target). Labels are changed whether or not anything runs.
   */
  run: boolean;
  addLabels: string[];
  removeLabels: string[];
  reply?: ReplyKind;
  /** ok-to-test-tdx on an untrusted PR also counts as /ok-to-test: start the /test all set as well. */
  impliesOkToTest?: boolean;
}

function decision(run: boolean, addLabels: string[] = [], removeLabels: string[] = [], reply?: ReplyKind): CommandDecision {
  return reply === undefined ? { run, addLabels, removeLabels } : { run, addLabels, removeLabels, reply };
}

/** Labels for "this PR is now trusted by /ok-to-test": add ok-to-test, drop needs-ok-to-test. */
function okToTestLabels(labels: readonly string[]): { add: string[]; remove: string[] } {
  return {
    add: hasLabel(labels, LABEL.okToTest) ? [] : [LABEL.okToTest],
    remove: hasLabel(labels, LABEL.needsOkToTest) ? [LABEL.needsOkToTest] : [],
  };
}

/** Prow removes a stale needs-ok-to-test whenever a command passes the trust gate on a PR with ok-to-test. */
function staleNeedsOkToTest(labels: readonly string[]): string[] {
  return hasLabel(labels, LABEL.okToTest) && hasLabel(labels, LABEL.needsOkToTest) ? [LABEL.needsOkToTest] : [];
}

export function decideCommand(cmd: ParsedCommand, ctx: CommandContext): CommandDecision {
  const { policy, labels } = ctx;
  // Read trust only where a command needs it: the shell may fetch it lazily (src/plan/facts.ts).
  const mayTest = (): boolean => ctx.commenterTrusted || ctx.prTrusted;
  switch (cmd.name) {
    case 'help':
      return decision(true);

    case 'test':
    case 'test-all':
    case 'test-help':
    case 'retest':
    case 'retest-required':
    case 'test-manual-required':
    case 'retest-with-target':
      // Anyone on a trusted PR; a trusted commenter on any PR.
      if (!mayTest()) return decision(false, [], [], 'untrusted');
      return decision(true, [], staleNeedsOkToTest(labels));

    case 'ok-to-test': {
      if (policy.ignore_ok_to_test) return decision(false, [], [], 'ok-to-test-ignored');
      if (!ctx.commenterTrusted) {
        // Prow lets anyone's /ok-to-test through on an already trusted PR (it runs the /test all set);
        // katabot runs the jobs but lets only trusted users change the trust labels.
        if (!ctx.prTrusted) return decision(false, [], [], 'untrusted');
        return decision(true, [], staleNeedsOkToTest(labels));
      }
      const { add, remove } = okToTestLabels(labels);
      return decision(true, add, remove);
    }

    case 'ok-to-test-cancel': {
      if (policy.ignore_ok_to_test) return decision(false, [], [], 'ok-to-test-ignored');
      if (!ctx.commenterTrusted) return decision(false, [], [], 'cancel-untrusted');
      const remove = [LABEL.okToTest, policy.tdx.label].filter((l) => hasLabel(labels, l));
      const add = hasLabel(labels, LABEL.needsOkToTest) ? [] : [LABEL.needsOkToTest];
      return decision(false, add, remove);
    }

    case 'ok-to-test-tdx': {
      if (!isTdxApprover(policy, ctx.commenter)) return decision(false, [], [], 'tdx-not-approver');
      const addTdx = labels.some((l) => isTdxLabel(policy, l)) ? [] : [policy.tdx.label];
      if (ctx.prTrusted) return decision(true, addTdx, staleNeedsOkToTest(labels));
      // An approver is a maintainer who has just reviewed the code for confidential hardware: on an
      // untrusted PR that review also covers ordinary testing, so it counts as /ok-to-test too.
      if (policy.ignore_ok_to_test) return decision(false, [], [], 'tdx-untrusted-pr');
      const { add, remove } = okToTestLabels(labels);
      return { run: true, addLabels: [...add, ...addTdx], removeLabels: remove, impliesOkToTest: true };
    }

    case 'trace':
      // The tracer sidecar is privileged: both the commenter and the PR must be trusted.
      if (!ctx.commenterTrusted || !ctx.prTrusted) return decision(false, [], [], 'trace-untrusted');
      return decision(true, [], staleNeedsOkToTest(labels));
  }
}
