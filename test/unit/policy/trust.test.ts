import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isBotLogin,
  isSelfLogin,
  isTrustedApp,
  pullRequestTrusted,
  sameLogin,
  userTrustStep,
  type TrustFacts,
  type TrustStep,
} from '../../../src/policy/trust.ts';
import { policy } from './fixtures.ts';

const BOT = 'katabot[bot]';

describe('userTrustStep', () => {
  const cases: Array<{ name: string; login: string; facts: TrustFacts; only?: boolean; orgs?: string[]; want: TrustStep }> = [
    { name: 'the bot itself', login: 'katabot[bot]', facts: {}, want: { trusted: true, via: 'self' } },
    { name: 'the bot itself, other case', login: 'KataBot[bot]', facts: {}, want: { trusted: true, via: 'self' } },
    { name: 'a user named like the App is not the bot', login: 'katabot', facts: {}, want: { need: 'member' } },
    { name: 'asks for membership first', login: 'alice', facts: {}, want: { need: 'member' } },
    { name: 'org member', login: 'alice', facts: { member: true }, want: { trusted: true, via: 'member' } },
    { name: 'member is enough without collaborator', login: 'alice', facts: { member: true, collaborator: false }, want: { trusted: true, via: 'member' } },
    { name: 'then asks for collaborator', login: 'carol', facts: { member: false }, want: { need: 'collaborator' } },
    { name: 'collaborator', login: 'carol', facts: { member: false, collaborator: true }, want: { trusted: true, via: 'collaborator' } },
    {
      name: 'neither',
      login: 'mallory',
      facts: { member: false, collaborator: false },
      want: { trusted: false, reason: 'User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted.' },
    },
    {
      name: 'only_org_members: collaborator is not asked',
      login: 'carol',
      facts: { member: false },
      only: true,
      want: { trusted: false, reason: 'User is not a member of the org. Satisfy at least one of these conditions to make the user trusted.' },
    },
    {
      name: 'only_org_members: a collaborator fact is ignored',
      login: 'carol',
      facts: { member: false, collaborator: true },
      only: true,
      want: { trusted: false, reason: 'User is not a member of the org. Satisfy at least one of these conditions to make the user trusted.' },
    },
    { name: 'only_org_members: member', login: 'alice', facts: { member: true }, only: true, want: { trusted: true, via: 'member' } },
    { name: 'trusted App needs no facts', login: 'dependabot[bot]', facts: {}, want: { trusted: true, via: 'app' } },
    { name: 'trusted App, other case', login: 'Dependabot[bot]', facts: {}, want: { trusted: true, via: 'app' } },
    { name: 'trusted App under only_org_members', login: 'dependabot[bot]', facts: {}, only: true, want: { trusted: true, via: 'app' } },
    { name: 'a user named like a trusted App is not the App', login: 'dependabot', facts: { member: false, collaborator: false }, want: { trusted: false, reason: 'User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted.' } },
    { name: 'an untrusted App is checked like anyone', login: 'renovate[bot]', facts: {}, want: { need: 'member' } },
    { name: 'no orgs: membership is not asked', login: 'carol', facts: {}, orgs: [], want: { need: 'collaborator' } },
    { name: 'no orgs: a member fact is ignored', login: 'carol', facts: { member: true, collaborator: false }, orgs: [], want: { trusted: false, reason: 'User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted.' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = policy({ only_org_members: c.only ?? false, ...(c.orgs ? { orgs: c.orgs } : {}) });
      assert.deepEqual(userTrustStep(p, BOT, c.login, c.facts), c.want);
    });
  }

  it('drives to a decision when the shell answers each need in order', () => {
    const p = policy();
    const asked: string[] = [];
    const facts: TrustFacts = {};
    let step = userTrustStep(p, BOT, 'carol', facts);
    while ('need' in step) {
      asked.push(step.need);
      facts[step.need] = step.need === 'collaborator';
      step = userTrustStep(p, BOT, 'carol', facts);
    }
    assert.deepEqual(asked, ['member', 'collaborator']);
    assert.deepEqual(step, { trusted: true, via: 'collaborator' });
  });

  it('a token bot (no [bot] suffix) is itself', () => {
    assert.deepEqual(userTrustStep(policy(), 'k8s-ci-robot', 'K8s-CI-Robot', {}), { trusted: true, via: 'self' });
  });
});

describe('logins', () => {
  const bot: Array<[string, boolean]> = [['dependabot[bot]', true], ['x[BOT]', true], ['bot', false], ['[bot]x', false], ['', false]];
  for (const [login, want] of bot) it(`isBotLogin(${JSON.stringify(login)}) = ${want}`, () => assert.equal(isBotLogin(login), want));

  const same: Array<[string, string, boolean]> = [
    ['katabot', 'katabot[bot]', true],
    ['KataBot[bot]', 'katabot', true],
    ['katabot[bot]', 'katabot[bot]', true],
    ['katabot', 'katabot2', false],
    ['katabot[bot]', 'other[bot]', false],
  ];
  for (const [a, b, want] of same) it(`sameLogin(${a}, ${b}) = ${want}`, () => assert.equal(sameLogin(a, b), want));

  const self: Array<[string, string, boolean]> = [
    ['katabot[bot]', 'katabot[bot]', true],
    ['katabot[bot]', 'KATABOT[bot]', true],
    ['katabot[bot]', 'katabot', false],
    ['katabot', 'katabot[bot]', true],
    ['katabot', 'katabot', true],
    ['', '', false],
  ];
  for (const [botLogin, login, want] of self) it(`isSelfLogin(${botLogin}, ${login}) = ${want}`, () => assert.equal(isSelfLogin(botLogin, login), want));

  it('isTrustedApp needs the [bot] suffix', () => {
    const p = policy({ trusted_apps: ['dependabot', 'renovate[bot]'] });
    assert.equal(isTrustedApp(p, 'dependabot[bot]'), true);
    assert.equal(isTrustedApp(p, 'renovate[bot]'), true);
    assert.equal(isTrustedApp(p, 'dependabot'), false);
    assert.equal(isTrustedApp(p, 'other[bot]'), false);
  });
});

describe('pullRequestTrusted (Prow TestTrusted)', () => {
  const cases: Array<{ name: string; author: boolean; labels: string[]; want: boolean }> = [
    { name: 'trust org member', author: true, labels: [], want: true },
    { name: 'accept random PR with ok-to-test', author: false, labels: ['ok-to-test'], want: true },
    { name: 'accept random PR with both labels', author: false, labels: ['ok-to-test', 'needs-ok-to-test'], want: true },
    { name: 'reject random PR with needs-ok-to-test', author: false, labels: ['needs-ok-to-test'], want: false },
    { name: 'reject random PR with no label', author: false, labels: [], want: false },
    { name: 'label case does not matter', author: false, labels: ['OK-To-Test'], want: true },
    { name: 'lgtm does not make a PR trusted', author: false, labels: ['lgtm', 'approved'], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(pullRequestTrusted(c.author, c.labels), c.want));
});
