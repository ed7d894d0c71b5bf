/** Units and dates as the athlete reads them: km or mi (a preference kept in localStorage), local times. */
export type Units = 'metric' | 'imperial';

const UNITS_KEY = 'activity-app.units';
export const loadUnits = (): Units => (localStorage.getItem(UNITS_KEY) === 'imperial' ? 'imperial' : 'metric');
export const saveUnits = (units: Units) => localStorage.setItem(UNITS_KEY, units);

const MILE_M = 1609.344;
const FOOT_M = 0.3048;

export function distance(meters: number | null | undefined, units: Units): string {
  if (meters === null || meters === undefined) return '—';
  return units === 'imperial' ? `${(meters / MILE_M).toFixed(2)} mi` : `${(meters / 1000).toFixed(2)} km`;
}

export function elevation(meters: number | null | undefined, units: Units): string {
  if (meters === null || meters === undefined) return '—';
  return units === 'imperial' ? `${Math.round(meters / FOOT_M)} ft` : `${Math.round(meters)} m`;
}

/** m/s in the unit of the preference: km/h or mph. */
export const speedFactor = (units: Units) => (units === 'imperial' ? 3600 / MILE_M : 3.6);
export const speedUnit = (units: Units) => (units === 'imperial' ? 'mph' : 'km/h');

export function speed(metersPerSecond: number | null | undefined, units: Units): string {
  if (metersPerSecond === null || metersPerSecond === undefined) return '—';
  return `${(metersPerSecond * speedFactor(units)).toFixed(1)} ${speedUnit(units)}`;
}

/** Pace, minutes per km or per mile. */
export function pace(metersPerSecond: number | null | undefined, units: Units): string {
  if (!metersPerSecond) return '—';
  const seconds = (units === 'imperial' ? MILE_M : 1000) / metersPerSecond;
  return `${clock(seconds)} /${units === 'imperial' ? 'mi' : 'km'}`;
}

/** 1:02:03, or 12:34 under an hour. */
export function clock(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return h ? `${h}:${mm}:${String(s).padStart(2, '0')}` : `${mm}:${String(s).padStart(2, '0')}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  return clock(seconds);
}

/** A long total: "12 h 05 min". */
export function hours(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) formatters.set(key, (found = new Intl.DateTimeFormat('en-GB', { ...options, timeZone })));
  return found;
}

/**
 * The wall-clock time in the activity's own zone ("Wed 1 May 2024, 08:00"); with an unknown zone the
 * browser's, marked so.
 */
export function localStart(date: Date, timeZone: string | null): string {
  const text = formatter(timeZone ?? undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(date);
  return timeZone ? text : `${text} (your time)`;
}

export function localTime(date: Date, timeZone: string | null): string {
  return formatter(timeZone ?? undefined, { hour: '2-digit', minute: '2-digit' }).format(date);
}

/** Year, month and day of an instant on the wall clock of a zone. */
export function localDate(date: Date, timeZone: string | null): { year: number; month: number; day: number } {
  const parts = formatter(timeZone ?? undefined, { year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(date);
  const part = (type: string) => Number(parts.find((candidate) => candidate.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/** The Monday (YYYY-MM-DD) of the week the activity started in, on its own wall clock. */
export function weekOf(date: Date, timeZone: string | null): string {
  const { year, month, day } = localDate(date, timeZone);
  const utc = new Date(Date.UTC(year, month - 1, day));
  utc.setUTCDate(utc.getUTCDate() - ((utc.getUTCDay() + 6) % 7));
  return utc.toISOString().slice(0, 10);
}

export function weekLabel(monday: string): string {
  const start = new Date(`${monday}T00:00:00Z`);
  const end = new Date(start.getTime() + 6 * 86_400_000);
  const f = formatter('UTC', { day: 'numeric', month: 'short', year: 'numeric' });
  return `Week of ${f.format(start)} – ${f.format(end)}`;
}

export const humanize = (slug: string) => slug.replace(/_/g, ' ').replace(/^./, (first) => first.toUpperCase());

export const SOURCE_LABELS: Record<string, string> = {
  manual: 'Manual',
  healthkit: 'Apple Health',
  strava: 'Strava',
  garmin: 'Garmin',
  health_connect: 'Health Connect',
  file: 'File',
};

/**
 * A short mark per catalog category, drawn as a coloured chip (decorative: the type's name is written
 * beside it). Text rather than emoji: a machine without an emoji font shows emoji as empty boxes.
 */
export const CATEGORY_ICONS: Record<string, string> = {
  running: 'Run',
  walking_hiking: 'Walk',
  cycling: 'Ride',
  swimming: 'Swim',
  water_sports: 'Water',
  winter_sports: 'Snow',
  strength: 'Gym',
  cardio_fitness: 'Cardio',
  mind_body: 'Mind',
  climbing: 'Climb',
  team_sports: 'Team',
  racket_sports: 'Racket',
  combat_sports: 'Fight',
  outdoor_recreation: 'Out',
  multisport: 'Multi',
  adaptive: 'Adapt',
  other: 'Other',
};
