import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, type Api } from './api.js';
import { StreamChart, type ChartSpec } from './chart.js';
import { useApp } from './context.js';
import { distance, duration, elevation, humanize, localStart, localTime, pace, speed, speedFactor, speedUnit, type Units } from './format.js';
import { RouteMap } from './route-map.js';
import { SourceBadge } from './timeline.js';

type Detail = Awaited<ReturnType<Api['activities']['get']>>;

const PACE_CATEGORIES = new Set(['running', 'walking_hiking']);

function charts(detail: Detail, units: Units): ChartSpec[] {
  const owner = new Map<string, string>(detail.streams.map((stream) => [stream.streamType, detail.id]));
  for (const stream of detail.memberStreams) if (!owner.has(stream.streamType)) owner.set(stream.streamType, stream.activityId);
  const specs: Omit<ChartSpec, 'activityId'>[] = [
    { streamType: 'heart_rate', label: 'Heart rate', unit: 'bpm', color: '#b91c1c' },
    { streamType: 'speed', label: 'Speed', unit: speedUnit(units), color: '#1d4ed8', scale: speedFactor(units) },
    { streamType: 'altitude', label: 'Altitude', unit: units === 'imperial' ? 'ft' : 'm', color: '#15803d', scale: units === 'imperial' ? 1 / 0.3048 : 1 },
    { streamType: 'power', label: 'Power', unit: 'W', color: '#7e22ce' },
    { streamType: 'cadence', label: 'Cadence', unit: 'rpm/spm', color: '#a16207' },
  ];
  return specs.flatMap((spec) => (owner.has(spec.streamType) ? [{ ...spec, activityId: owner.get(spec.streamType)! }] : []));
}

function Laps({ detail }: { detail: Detail }) {
  const { units } = useApp();
  const laps = detail.events.filter((event) => event.eventType === 'lap');
  if (laps.length === 0) return null;
  const num = (value: unknown) => (typeof value === 'number' ? value : null);
  return (
    <section aria-labelledby="laps">
      <h2 id="laps">Laps</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Lap</th>
            <th scope="col">Start</th>
            <th scope="col">Time</th>
            <th scope="col">Distance</th>
            <th scope="col">Avg speed</th>
            <th scope="col">Avg HR</th>
          </tr>
        </thead>
        <tbody>
          {laps.map((lap, index) => {
            const meta = lap.metadata ?? {};
            const seconds = num(meta.duration_s) ?? (lap.endTime ? (lap.endTime.getTime() - lap.startTime.getTime()) / 1000 : null);
            const meters = num(meta.distance_m);
            const avgSpeed = num(meta.avg_speed_m_s) ?? (meters && seconds ? meters / seconds : null);
            return (
              <tr key={index}>
                <th scope="row">{index + 1}</th>
                <td>{localTime(lap.startTime, detail.timeZone)}</td>
                <td class="num">{duration(seconds)}</td>
                <td class="num">{distance(meters, units)}</td>
                <td class="num">{speed(avgSpeed, units)}</td>
                <td class="num">{num(meta.avg_heart_rate_bpm) ?? '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Edit({ detail, onSaved }: { detail: Detail; onSaved: (detail: Detail) => void }) {
  const { types } = useApp();
  const [name, setName] = useState(detail.name ?? '');
  const [activityType, setActivityType] = useState(detail.activityType);
  const [status, setStatus] = useState<string | null>(null);
  const byCategory = new Map<string, { slug: string; displayName: string }[]>();
  for (const type of types.values()) byCategory.set(type.category, [...(byCategory.get(type.category) ?? []), type]);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const saved = await api.activities.update({ id: detail.id, name: name.trim() || null, activityType });
      onSaved(saved);
      setStatus('Saved');
    } catch (caught) {
      setStatus(`Not saved: ${messageOf(caught)}`);
    }
  };
  return (
    <form class="edit" onSubmit={submit} aria-label="Rename or change type">
      <label for="activity-name">Name</label>
      <input id="activity-name" value={name} maxLength={500} onInput={(event) => setName((event.currentTarget as HTMLInputElement).value)} />
      <label for="activity-type">Type</label>
      <select id="activity-type" value={activityType} onChange={(event) => setActivityType((event.currentTarget as HTMLSelectElement).value)}>
        {[...byCategory].map(([category, list]) => (
          <optgroup key={category} label={humanize(category)}>
            {list.map((type) => (
              <option key={type.slug} value={type.slug}>
                {type.displayName}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <button type="submit">Save</button>
      <span role="status">{status}</span>
    </form>
  );
}

export function ActivityPage({ id }: { id: string }) {
  const { types, units } = useApp();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setDetail(null);
    api.activities.get({ id }).then(setDetail, (caught: unknown) => setError(messageOf(caught)));
  }, [id]);

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!detail) return <p class="loading" role="status">Loading…</p>;

  const type = types.get(detail.activityType);
  const showPace = PACE_CATEGORIES.has(type?.category ?? '');
  const hasRoute = detail.streams.some((stream) => stream.streamType === 'position') || detail.memberStreams.some((stream) => stream.streamType === 'position');
  const routeOwner = detail.streams.some((stream) => stream.streamType === 'position') ? detail.id : detail.memberStreams.find((stream) => stream.streamType === 'position')?.activityId;
  const summary: [string, string][] = [
    ['Start', localStart(detail.startTime, detail.timeZone)],
    ['Time zone', detail.timeZone ?? 'unknown'],
    ['Duration', duration(detail.durationS)],
    ['Moving time', duration(detail.movingTimeS)],
    ['Distance', distance(detail.distanceM, units)],
    [showPace ? 'Avg pace' : 'Avg speed', showPace ? pace(detail.avgSpeedMS, units) : speed(detail.avgSpeedMS, units)],
    ['Max speed', speed(detail.maxSpeedMS, units)],
    ['Avg heart rate', detail.avgHeartRateBpm === null ? '—' : `${Math.round(detail.avgHeartRateBpm)} bpm`],
    ['Max heart rate', detail.maxHeartRateBpm === null ? '—' : `${Math.round(detail.maxHeartRateBpm)} bpm`],
    ['Elevation gain', elevation(detail.elevationGainM, units)],
    ['Elevation loss', elevation(detail.elevationLossM, units)],
    ['Energy', detail.activeEnergyKcal === null ? '—' : `${Math.round(detail.activeEnergyKcal)} kcal`],
    ['Device', detail.deviceName ?? '—'],
  ];

  return (
    <article class="activity">
      <p>
        <a href="#/">← Timeline</a>
      </p>
      <h1 tabIndex={-1}>{detail.name || type?.displayName || humanize(detail.activityType)}</h1>
      <p class="subtitle">
        {type?.displayName ?? humanize(detail.activityType)} · <SourceBadge source={detail.source} />
        {detail.duplicates.map((member) => (
          <a key={member.id} href={`#/activity/${member.id}`} class="member">
            <SourceBadge source={member.source} />
          </a>
        ))}
        {detail.duplicateOf && (
          <>
            {' '}
            · a copy of <a href={`#/activity/${detail.duplicateOf}`}>the primary</a>
          </>
        )}
      </p>
      <Edit key={detail.id} detail={detail} onSaved={setDetail} />
      <section aria-labelledby="summary">
        <h2 id="summary">Summary</h2>
        <dl class="summary">
          {summary.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      </section>
      {detail.children.length > 0 && (
        <section aria-labelledby="legs">
          <h2 id="legs">Legs</h2>
          <ol class="legs">
            {detail.children.map((child) => (
              <li key={child.id}>
                <a href={`#/activity/${child.id}`}>{types.get(child.activityType)?.displayName ?? humanize(child.activityType)}</a> · {localTime(child.startTime, child.timeZone)} ·{' '}
                {duration(child.durationS)} · {distance(child.distanceM, units)}
              </li>
            ))}
          </ol>
        </section>
      )}
      {hasRoute && routeOwner && <RouteMap activityId={routeOwner} />}
      <section aria-labelledby="charts" class="charts">
        <h2 id="charts">Charts</h2>
        {charts(detail, units).map((spec) => (
          <StreamChart key={`${spec.streamType}-${units}`} spec={spec} startMs={detail.startTime.getTime()} />
        ))}
      </section>
      <Laps detail={detail} />
      {detail.statistics.length > 0 && (
        <section aria-labelledby="statistics">
          <h2 id="statistics">Statistics</h2>
          <table>
            <tbody>
              {detail.statistics.map((statistic) => (
                <tr key={statistic.key}>
                  <th scope="row">{humanize(statistic.key)}</th>
                  <td class="num">
                    {Number.isInteger(statistic.value) ? statistic.value : statistic.value.toFixed(2)} {statistic.unit}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section aria-labelledby="downloads">
        <h2 id="downloads">Downloads</h2>
        <ul class="downloads">
          {detail.source !== 'manual' && (
            <li>
              <a href={`/api/v1/activities/${detail.id}/original`} download>
                Original file
              </a>
            </li>
          )}
          {detail.streams.some((stream) => stream.streamType === 'position') && (
            <li>
              <a href={`/api/v1/activities/${detail.id}/gpx`} download>
                Track (GPX)
              </a>
            </li>
          )}
          {detail.streams.map((stream) => (
            <li key={stream.streamType}>
              <a href={`/api/v1/activities/${detail.id}/streams/${stream.streamType}/file?redirect=false`} download>
                {humanize(stream.streamType)} (Parquet)
              </a>
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
