// Maintainers per job, from Kata's maintainers.yml (kata-containers.github.io):
//   mappings: [{ regex, group, owners: [{ fullname, email, slackurl, slack, github }] }]
// A job belongs to every group whose regex finds its name (JavaScript `new RegExp(regex).test(name)`, as Kata's
// Dashboard.js does); mappings naming the same group are merged. Pure.
import { ConfigError } from '../config/errors.ts';
import { isPlainObject, parseYaml } from '../config/yaml.ts';
import type { MaintainerGroup, Owner } from './types.ts';

export interface Maintainers {
  mappings: Array<{ regexp: RegExp; group: string }>;
  groups: Map<string, MaintainerGroup>;
}

export const NO_MAINTAINERS: Maintainers = { mappings: [], groups: new Map() };

const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function isWebUrl(s: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(s);
}

/** One owner, keeping only contact details that are what they say (the sample has a web page as an email and a mistyped Slack URL). */
export function ownerOf(raw: Record<string, unknown>): Owner {
  const github = str(raw.github)?.replace(/^@/, '');
  const email = str(raw.email);
  const slackurl = str(raw.slackurl);
  const o: Owner = { fullname: str(raw.fullname) ?? github ?? 'unknown' };
  if (github && GITHUB_LOGIN.test(github)) o.github = github;
  if (email && /^[^\s@]+@[^\s@]+$/.test(email)) o.email = email;
  else if (email && isWebUrl(email)) o.homepage = email;
  const slack = str(raw.slack);
  if (slack) o.slack = slack;
  if (slackurl && isWebUrl(slackurl)) o.slackurl = slackurl;
  return o;
}

export function parseMaintainers(text: string, file: string): Maintainers {
  const doc = parseYaml(text, file);
  if (doc === null || doc === undefined) return NO_MAINTAINERS;
  if (!isPlainObject(doc)) throw new ConfigError(file, '', 'must be a mapping with mappings: [{regex, group, owners}]');
  const list = doc.mappings ?? [];
  if (!Array.isArray(list)) throw new ConfigError(file, ['mappings'], 'must be a list of {regex, group, owners}');
  const mappings: Maintainers['mappings'] = [];
  const groups = new Map<string, MaintainerGroup>();
  list.forEach((m, i) => {
    if (!isPlainObject(m)) throw new ConfigError(file, ['mappings', i], 'must be a mapping {regex, group, owners}');
    const regex = str(m.regex);
    const group = str(m.group);
    if (!regex) throw new ConfigError(file, ['mappings', i, 'regex'], 'must be a non-empty string');
    if (!group) throw new ConfigError(file, ['mappings', i, 'group'], 'must be a non-empty string');
    let regexp: RegExp;
    try {
      regexp = new RegExp(regex);
    } catch (err) {
      throw new ConfigError(file, ['mappings', i, 'regex'], `not a regular expression: ${(err as Error).message}`);
    }
    const owners = m.owners ?? [];
    if (!Array.isArray(owners)) throw new ConfigError(file, ['mappings', i, 'owners'], 'must be a list');
    const g = groups.get(group) ?? { group, regexes: [], owners: [] };
    g.regexes.push(regex);
    owners.forEach((o, j) => {
      if (!isPlainObject(o)) throw new ConfigError(file, ['mappings', i, 'owners', j], 'must be a mapping');
      const owner = ownerOf(o);
      if (!g.owners.some((x) => x.fullname === owner.fullname && x.github === owner.github)) g.owners.push(owner);
    });
    groups.set(group, g);
    mappings.push({ regexp, group });
  });
  return { mappings, groups };
}

/** Group names for a job, in file order; the job's context is tried too. */
export function groupsFor(m: Maintainers, job: string, context?: string): string[] {
  const out: string[] = [];
  for (const { regexp, group } of m.mappings) {
    if (out.includes(group)) continue;
    if (regexp.test(job) || (context !== undefined && regexp.test(context))) out.push(group);
  }
  return out;
}
