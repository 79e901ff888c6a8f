// Shapes shared by the slash-command parsers. Pure: no I/O.

/** One command found in a comment. Several may come from one comment; the registry collapses duplicates. */
export type ParsedCommand =
  | { name: 'test'; targets: string[] } // explicit job names from "/test a b" lines (not 'all' / '?')
  | { name: 'test-all' }
  | { name: 'test-help'; reason: 'question' | 'empty' } // "/test ?" or a bare "/test"
  | { name: 'retest' }
  | { name: 'retest-required' }
  | { name: 'test-manual-required' }
  | { name: 'retest-with-target'; target: string } // "/retest foo": invalid, answered with help
  | { name: 'ok-to-test' }
  | { name: 'ok-to-test-cancel' }
  | { name: 'ok-to-test-tdx' }
  | { name: 'trace'; targets: string[]; probes?: string[] } // "/trace" → targets []; "/trace --probe dns,tcp" → probes
  | { name: 'help' };

export type ParsedCommandName = ParsedCommand['name'];

/**
 * One slash command: its help entry (Prow's PluginHelp `Command` fields, lower-cased) and its parser.
 * `parse` takes text already passed through `commandText` (code, quotes and HTML comments removed).
 */
export interface CommandSpec {
  /** Stable identifier, e.g. 'test', 'ok-to-test'. */
  readonly name: string;
  /** One-line syntax, e.g. "/test [<job>…|all|?]". */
  readonly usage: string;
  readonly description: string;
  readonly examples: readonly string[];
  readonly whoCanUse: string;
  /** Prow's `Featured`: shown prominently on Deck's command help. */
  readonly featured: boolean;
  readonly parse: (text: string) => ParsedCommand[];
}

/**
 * Most targets kept per command kind and comment. It bounds the replies' work (the unknown-target check and its
 * "did you mean" suggestions), not which jobs run: jobs are chosen by matching every job's trigger against the
 * whole comment, so `/test` naming more jobs still runs them all. kubernetes/test-infra's largest repository
 * (kubernetes/kubernetes: 461 presubmits, 301 of them run only when named) is the one a long list could come
 * from; 50 names is a comment no one types by hand, and past it a typo is no longer worth a suggestion.
 */
export const MAX_TARGETS = 50;

/** Most eBPF packages one /trace may ask for. */
export const MAX_PROBES = 10;
