// Owners per job from Kata's maintainers.yml.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { groupsFor, ownerOf, parseMaintainers } from '../../../src/dashboard/maintainers.ts';

const SAMPLE = new URL('../../../../shared/kata/maintainers.yml', import.meta.url).pathname;
const noSample = existsSync(SAMPLE) ? false : `Kata's sample is not at ${SAMPLE}`;

describe("Kata's sample maintainers.yml", { skip: noSample }, () => {
  const m = parseMaintainers(readFileSync(SAMPLE, 'utf8'), SAMPLE);
  const cases: Array<[job: string, groups: string[]]> = [
    ['kata-containers-ci-on-push / run-k8s-tests-on-zvsi / run-k8s-tests (qemu)', ['Arch-s390x']],
    ['build-kata-static-tarball-s390x / build-asset (qemu)', ['Arch-s390x']],
    ['run-cri-containerd-amd64 (latest, dragonball)', ['Dragonball']],
    ['run-nerdctl-tests (qemu-runtime-rs)', ['Rust']],
    ['run-k8s-tests-on-tee (sev-snp, qemu-snp)', ['AMD']],
    ['run-k8s-tests-on-tdx (qemu-tdx)', ['Intel']],
    ['kata-containers-ci-on-push / run-k8s-tests-on-arm64 / run-k8s-tests-on-arm64 (qemu, kubeadm)', ['ARM64']],
    ['run-basic-amd64-tests / run-kata-agent-apis', ['agent-ctl']],
    ['run-k8s-tests-coco-nontee (qemu-coco-dev, nydus)', ['CoCo_non-TEE']],
    ['run-nerdctl-tests (dragonball) runtime-rs', ['Dragonball', 'Rust']],
    ['commit message check', []],
  ];
  for (const [job, want] of cases) it(`${job} → ${want.join(', ') || 'nobody'}`, () => assert.deepEqual(groupsFor(m, job), want));

  it('groups keep their owners and contacts', () => {
    const rust = m.groups.get('Rust')!;
    assert.deepEqual(rust.owners.map((o) => o.github), ['pmores', 'lifupan']);
    assert.equal(rust.owners[0]!.slackurl, 'https://katacontainers.slack.com/team/U03CCR6KGBC');
    assert.equal(rust.owners[0]!.email, 'pmores@redhat.com');
  });

  it('a web page given as email is a homepage; a mistyped Slack URL is not linked', () => {
    const peng = m.groups.get('Dragonball')!.owners[0]!;
    assert.equal(peng.email, undefined);
    assert.equal(peng.homepage, 'http://bergwolf.github.io/');
    const kevin = m.groups.get('ARM64')!.owners.find((o) => o.github === 'kevinzs2048')!;
    assert.equal(kevin.slackurl, undefined, 'the sample has "ihttps://…"');
    assert.equal(kevin.slack, 'Kevin Zhao');
  });
});

describe('maintainers.yml', () => {
  it('merges mappings of one group and tries the context too', () => {
    const m = parseMaintainers(
      'mappings:\n- regex: "tdx"\n  group: Intel\n  owners: [{fullname: A, github: a}]\n- regex: "sgx"\n  group: Intel\n  owners: [{fullname: B, github: "@b"}, {fullname: A, github: a}]\n',
      'm.yml',
    );
    assert.deepEqual(m.groups.get('Intel')!.owners.map((o) => o.github), ['a', 'b']);
    assert.deepEqual(m.groups.get('Intel')!.regexes, ['tdx', 'sgx']);
    assert.deepEqual(groupsFor(m, 'pull-e2e', 'Kata CI / run-sgx'), ['Intel']);
  });

  it('ownerOf drops what is not a login, an address or a link', () => {
    assert.deepEqual(ownerOf({ fullname: 'X', github: 'not a login', email: 'nope', slackurl: 'javascript:alert(1)' }), { fullname: 'X' });
  });

  const errors: Array<[string, string, RegExp]> = [
    ['mappings not a list', 'mappings: 3\n', /^m\.yml: mappings: must be a list/],
    ['no regex', 'mappings:\n- group: G\n', /^m\.yml: mappings\[0\]\.regex: must be a non-empty string$/],
    ['bad regex', 'mappings:\n- regex: "("\n  group: G\n', /^m\.yml: mappings\[0\]\.regex: not a regular expression/],
  ];
  for (const [name, text, want] of errors) {
    it(`one-line error: ${name}`, () => assert.throws(() => parseMaintainers(text, 'm.yml'), (e: Error) => want.test(e.message)));
  }
});
