// Kata's weather rule (kata-containers.github.io components/weatherTemplate.js) and how Prow states read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf, weatherOf } from '../../../src/dashboard/weather.ts';
import type { ProwJobState } from '../../../src/jobs/types.ts';

describe('weatherOf: failures over runs, in fifths', () => {
  const cases: Array<[fails: number, runs: number, want: string]> = [
    [0, 10, 'sunny'],
    [1, 10, 'sunny'],
    [2, 10, 'partially-sunny'],
    [3, 10, 'partially-sunny'],
    [4, 10, 'cloudy'],
    [5, 10, 'cloudy'],
    [6, 10, 'rainy'],
    [7, 10, 'rainy'],
    [8, 10, 'stormy'],
    [10, 10, 'stormy'],
    [1, 3, 'partially-sunny'],
    [2, 3, 'rainy'],
    [1, 5, 'partially-sunny'],
    [0, 0, 'stormy'],
  ];
  for (const [fails, runs, want] of cases) {
    it(`${fails} of ${runs} failed → ${want}`, () => assert.equal(weatherOf(fails, runs), want));
  }
});

describe('outcomeOf', () => {
  const cases: Array<[ProwJobState, string]> = [
    ['success', 'pass'],
    ['failure', 'fail'],
    ['error', 'fail'],
    ['aborted', 'skip'],
    ['pending', 'running'],
    ['triggered', 'running'],
    ['scheduling', 'running'],
  ];
  for (const [state, want] of cases) it(`${state} → ${want}`, () => assert.equal(outcomeOf(state), want));
});
