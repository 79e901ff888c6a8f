// Policies as readable YAML: a comment block naming the runs a document was learned from, comments on the rules
// (which peer, how often seen), keys in a fixed order, kubectl-style sequences. Pure.
import { Document, isNode } from 'yaml';

export interface PolicyDoc {
  /** Kind and name, for listings and file names. */
  kind: string;
  name: string;
  namespace?: string;
  /** The workload the document is for (`namespace/workload`). */
  workload: string;
  value: Record<string, unknown>;
  /** Comment lines above the document. */
  header: string[];
  /** Comments above nodes, by path (`['spec', 'egress', 0]`). */
  comments: Array<{ path: Array<string | number>; text: string }>;
}

/** One document as YAML text (no `---`). */
export function renderYaml(doc: PolicyDoc): string {
  const d = new Document(doc.value);
  d.commentBefore = doc.header.map((l) => ` ${l}`).join('\n');
  for (const c of doc.comments) {
    const node = d.getIn(c.path, true);
    if (isNode(node)) node.commentBefore = c.text.split('\n').map((l) => ` ${l}`).join('\n');
  }
  return d.toString({ indentSeq: false, lineWidth: 0 });
}

/** Several documents as one YAML stream. */
export function renderYamlStream(docs: readonly PolicyDoc[]): string {
  return docs.map((d) => `---\n${renderYaml(d)}`).join('');
}

/** The header every policy carries: what made it and from which runs. */
export function provenance(what: string, runs: readonly string[]): string[] {
  const shown = runs.slice(0, 8);
  return [
    `${what}, learned by katabot from observed behaviour (katabot policy).`,
    `Runs (${runs.length}):`,
    ...shown.map((r) => `  - ${r}`),
    ...(runs.length > shown.length ? [`  - …and ${runs.length - shown.length} more`] : []),
  ];
}
