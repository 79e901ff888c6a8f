// Outcomes and Kata's weather rule. Pure; shared by the server and the browser bundle.
import type { ProwJobState } from '../jobs/types.ts';
import type { Outcome, Weather } from './types.ts';

/** Best to worst, as Kata's weatherTemplate.js orders its icons. */
export const WEATHERS: readonly Weather[] = ['sunny', 'partially-sunny', 'cloudy', 'rainy', 'stormy'];

export const WEATHER_LABELS: Record<Weather, string> = {
  sunny: 'Sunny',
  'partially-sunny': 'Partly sunny',
  cloudy: 'Cloudy',
  rainy: 'Rainy',
  stormy: 'Stormy',
};

/**
 * How a person reads a ProwJob state. Prow has no "skipped": `aborted` (a newer run superseded it, or someone
 * stopped it) says nothing about the code, so it counts like Kata's skips: in the runs, not in the failures.
 */
export function outcomeOf(state: ProwJobState): Outcome {
  switch (state) {
    case 'success':
      return 'pass';
    case 'failure':
    case 'error':
      return 'fail';
    case 'aborted':
      return 'skip';
    default:
      return 'running';
  }
}

export function isFinished(o: Outcome): boolean {
  return o !== 'running';
}

/**
 * Kata's rule (kata-containers.github.io components/weatherTemplate.js): the failure ratio over the window, in
 * fifths: under 20 % sunny, under 40 % partly sunny, under 60 % cloudy, under 80 % rainy, else stormy. Skips are
 * runs, not failures. No runs at all is stormy, as there.
 */
export function weatherOf(fails: number, runs: number): Weather {
  let idx = Math.floor(((fails / runs) * 10) / 2);
  if (idx === WEATHERS.length) idx -= 1;
  if (Number.isNaN(idx) || idx > WEATHERS.length) idx = WEATHERS.length - 1;
  return WEATHERS[idx]!;
}

/** Worse weather sorts first. */
export function weatherRank(w: Weather): number {
  return WEATHERS.indexOf(w);
}
