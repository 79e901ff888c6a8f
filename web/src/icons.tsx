// Inline SVG icons: the five weather icons of Kata's dashboard and the run outcomes. No icon font, no emoji
// (emoji depend on the reader's fonts), every icon labelled for screen readers.
import type { Outcome, Weather } from '../../src/dashboard/types.ts';
import { WEATHER_LABELS } from '../../src/dashboard/weather.ts';

const CLOUD = 'M10 24h13.5a5.5 5.5 0 0 0 .5-10.97a7.5 7.5 0 0 0-14.4 1.9a4.6 4.6 0 0 0 .4 9.07z';
const RAYS = 'M16 2.5v3.2M16 26.3v3.2M2.5 16h3.2M26.3 16h3.2M6.4 6.4l2.3 2.3M23.3 23.3l2.3 2.3M6.4 25.6l2.3-2.3M23.3 8.7l2.3-2.3';

function Sun({ x = 0, y = 0, s = 1 }: { x?: number; y?: number; s?: number }) {
  return (
    <g transform={`translate(${x} ${y}) scale(${s})`}>
      <path d={RAYS} stroke="var(--sun)" stroke-width="2.4" stroke-linecap="round" />
      <circle cx="16" cy="16" r="6.6" fill="var(--sun)" />
    </g>
  );
}

export function WeatherIcon({ weather, title, size = 32 }: { weather: Weather; title?: string; size?: number }) {
  const label = title ?? WEATHER_LABELS[weather];
  return (
    <svg class={`weather weather-${weather}`} viewBox="0 0 32 32" width={size} height={size} role="img" aria-label={label} data-weather={weather}>
      <title>{label}</title>
      {weather === 'sunny' && <Sun />}
      {weather === 'partially-sunny' && (
        <>
          <Sun x={-1} y={-1} s={0.7} />
          <path d={CLOUD} transform="translate(2 3)" fill="var(--cloud-light)" stroke="var(--cloud-edge)" stroke-width="1.2" />
        </>
      )}
      {weather === 'cloudy' && (
        <>
          <path d={CLOUD} transform="translate(9 1) scale(.7)" fill="var(--cloud-mid)" />
          <path d={CLOUD} transform="translate(-1 3)" fill="var(--cloud-light)" stroke="var(--cloud-edge)" stroke-width="1.2" />
        </>
      )}
      {weather === 'rainy' && (
        <>
          <path d={CLOUD} transform="translate(0 -5)" fill="var(--cloud-mid)" stroke="var(--cloud-edge)" stroke-width="1.2" />
          <path d="M11 22.5l-1.6 4M16 22.5l-1.6 4M21 22.5l-1.6 4M13.5 27l-1.2 3M18.5 27l-1.2 3" stroke="var(--rain)" stroke-width="2" stroke-linecap="round" />
        </>
      )}
      {weather === 'stormy' && (
        <>
          <path d={CLOUD} transform="translate(0 -6)" fill="var(--cloud-dark)" />
          <path d="M16.5 17.5l-4.2 6.4h3.6l-2.4 6.1 6.6-8h-3.7l2.4-4.5z" fill="var(--sun)" stroke="var(--bolt-edge)" stroke-width=".8" stroke-linejoin="round" />
          <path d="M9.5 21l-1.4 3.4M24 21l-1.4 3.4" stroke="var(--rain)" stroke-width="2" stroke-linecap="round" />
        </>
      )}
    </svg>
  );
}

export const OUTCOME_LABELS: Record<Outcome, string> = { pass: 'passed', fail: 'failed', skip: 'aborted', running: 'running' };

export function OutcomeIcon({ outcome, size = 18 }: { outcome: Outcome; size?: number }) {
  return (
    <svg class={`outcome outcome-${outcome}`} viewBox="0 0 20 20" width={size} height={size} role="img" aria-label={OUTCOME_LABELS[outcome]}>
      <circle cx="10" cy="10" r="9" fill="currentColor" />
      {outcome === 'pass' && <path d="M5.6 10.4l2.9 2.9 5.9-6.3" fill="none" stroke="var(--on-status)" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" />}
      {outcome === 'fail' && <path d="M6.6 6.6l6.8 6.8M13.4 6.6l-6.8 6.8" stroke="var(--on-status)" stroke-width="2.2" stroke-linecap="round" />}
      {outcome === 'skip' && <path d="M6 10h8" stroke="var(--on-status)" stroke-width="2.2" stroke-linecap="round" />}
      {outcome === 'running' && <circle class="pulse" cx="10" cy="10" r="3.4" fill="var(--on-status)" />}
    </svg>
  );
}

export function ExternalIcon() {
  return (
    <svg class="ext" viewBox="0 0 12 12" width="11" height="11" aria-hidden="true">
      <path d="M7 1.5h3.5V5M10.5 1.5L5.5 6.5M9 7.5v2.5a.8.8 0 0 1-.8.8H2.3a.8.8 0 0 1-.8-.8V3.8a.8.8 0 0 1 .8-.8h2.5" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

export function Chevron({ open }: { open: boolean }) {
  return (
    <svg class={`chevron${open ? ' open' : ''}`} viewBox="0 0 12 12" width="12" height="12" aria-hidden="true">
      <path d="M4 2.5L7.5 6 4 9.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
