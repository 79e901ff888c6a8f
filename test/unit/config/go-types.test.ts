// The decoder's Go types against independent descriptions of the same types: the generated Kubernetes table
// against @kubernetes/client-node itself, and everything a ProwJob carries (pod spec, decoration config, refs,
// reporter and rerun settings) against the upstream ProwJob CRD's schema in ../shared.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { render } from '../../../scripts/gen-kube-types.ts';
import { GO_STRUCTS, type GoType } from '../../../src/config/go-types.ts';
import { CRD_PATH, crdSkipReason } from '../../fixtures/jobs/crd-schema.ts';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

/** Every way `t` disagrees with the CRD schema node `s` at `path`. */
function differences(t: GoType, s: Schema, path: string): string[] {
  const out: string[] = [];
  if (s['x-kubernetes-preserve-unknown-fields'] === true && !s.properties) return t === 'any' ? [] : [`${path}: CRD keeps any value, decoder has ${JSON.stringify(t)}`];
  if (s['x-kubernetes-int-or-string'] === true) {
    const want = typeof s['pattern'] === 'string' ? 'quantity' : 'intOrString';
    return t === want ? [] : [`${path}: CRD has ${want}, decoder has ${JSON.stringify(t)}`];
  }
  switch (s['type']) {
    case 'string':
      return t === 'string' || t === 'duration' || t === 'metaDuration' ? [] : [`${path}: CRD has string, decoder has ${JSON.stringify(t)}`];
    case 'integer':
      return t === 'int' ? [] : [`${path}: CRD has integer, decoder has ${JSON.stringify(t)}`];
    case 'number':
      return t === 'float' ? [] : [`${path}: CRD has number, decoder has ${JSON.stringify(t)}`];
    case 'boolean':
      return t === 'bool' ? [] : [`${path}: CRD has boolean, decoder has ${JSON.stringify(t)}`];
    case 'array':
      if (typeof t !== 'object' || !('list' in t)) return [`${path}: CRD has a list, decoder has ${JSON.stringify(t)}`];
      return differences(t.list, s.items ?? {}, `${path}[]`);
    case 'object': {
      if (s.properties) {
        if (typeof t !== 'object' || !('struct' in t)) return [`${path}: CRD has an object, decoder has ${JSON.stringify(t)}`];
        const fields = GO_STRUCTS[t.struct]?.fields ?? {};
        for (const k of Object.keys(s.properties)) if (!(k in fields)) out.push(`${path}.${k}: in the CRD, not in ${t.struct}`);
        for (const k of Object.keys(fields)) if (!(k in s.properties)) out.push(`${path}.${k}: in ${t.struct}, not in the CRD`);
        for (const [k, sub] of Object.entries(s.properties)) if (fields[k] !== undefined) out.push(...differences(fields[k], sub, `${path}.${k}`));
        return out;
      }
      if (typeof s.additionalProperties === 'object') {
        if (typeof t !== 'object' || !('map' in t)) return [`${path}: CRD has a map, decoder has ${JSON.stringify(t)}`];
        return differences(t.map, s.additionalProperties, `${path}{}`);
      }
      // controller-gen writes an embedded ObjectMeta as a free-form object; Go still decodes it as ObjectMeta.
      if (typeof t === 'object' && 'struct' in t && t.struct === 'V1ObjectMeta') return [];
      return t === 'any' ? [] : [`${path}: CRD has a free-form object, decoder has ${JSON.stringify(t)}`];
    }
    default:
      return [];
  }
}

describe('Go types', () => {
  it('src/config/kube-types.ts is what scripts/gen-kube-types.ts makes of the installed @kubernetes/client-node', () => {
    assert.equal(readFileSync(new URL('../../../src/config/kube-types.ts', import.meta.url), 'utf8'), render());
  });

  const skip = crdSkipReason();
  const ProwJobSpecFields: Array<[string, GoType]> = [
    ['pod_spec', { struct: 'V1PodSpec' }],
    ['decoration_config', { struct: 'DecorationConfig' }],
    ['extra_refs', { list: { struct: 'Refs' } }],
    ['refs', { struct: 'Refs' }],
    ['reporter_config', { struct: 'ReporterConfig' }],
    ['rerun_auth_config', { struct: 'RerunAuthConfig' }],
    ['prowjob_defaults', { struct: 'ProwJobDefault' }],
    ['jenkins_spec', { struct: 'JenkinsSpec' }],
  ];
  let crdSpec: Record<string, Schema> | undefined;
  const specSchema = (): Record<string, Schema> => {
    if (!crdSpec) {
      const crd = parse(readFileSync(CRD_PATH, 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } };
      crdSpec = crd.spec.versions.find((v) => v.name === 'v1')?.schema.openAPIV3Schema.properties?.['spec']?.properties ?? {};
    }
    return crdSpec;
  };
  for (const [field, type] of ProwJobSpecFields) {
    it(`spec.${field} has the CRD's fields and types (quantities and int-or-strings included)`, { skip }, () => {
      const spec = specSchema();
      assert.ok(spec[field], `the CRD has spec.${field}`);
      assert.deepEqual(differences(type, spec[field] as Schema, field), []);
    });
  }
});
