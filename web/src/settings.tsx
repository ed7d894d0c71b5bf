import { useEffect, useState } from 'preact/hooks';
import { ACTIVITY_SOURCES } from '../../libs/contract/src/catalog.js';
import { api, messageOf, type Api } from './api.js';
import { useApp } from './context.js';
import { SOURCE_LABELS } from './format.js';

type Connection = Awaited<ReturnType<Api['connections']['list']>>['items'][number];
type Provider = Awaited<ReturnType<Api['connections']['providers']>>['items'][number];
type ExportJob = Awaited<ReturnType<Api['exports']['getJob']>>;
type Source = (typeof ACTIVITY_SOURCES)[number];

const PROVIDER_LABELS: Record<string, string> = { strava: 'Strava', garmin: 'Garmin' };

/** Strava and Garmin: shown only when this deployment offers a provider (GET /v1/providers). */
function Connections() {
  const { athleteId } = useApp();
  const [providers, setProviders] = useState<Provider[]>([]);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [error, setError] = useState<string | null>(null);
  const refresh = () => api.connections.list({ id: athleteId }).then((answer) => setConnections(answer.items), (caught: unknown) => setError(messageOf(caught)));
  useEffect(() => {
    api.connections.providers().then((answer) => {
      setProviders(answer.items);
      if (answer.items.length > 0) void refresh();
    }, (caught: unknown) => setError(messageOf(caught)));
  }, [athleteId]);
  // Backfill progress, while one runs.
  useEffect(() => {
    if (!connections.some((connection) => connection.status === 'backfilling' || connection.status === 'rate_limited')) return;
    const timer = setInterval(() => void refresh(), 3000);
    return () => clearInterval(timer);
  }, [connections]);
  if (providers.length === 0) return null;
  return (
    <section aria-labelledby="connections">
      <h2 id="connections">Connections</h2>
      {error && <p role="alert" class="error">{error}</p>}
      <ul class="connections">
        {providers.map(({ provider }) => {
          const connection = connections.find((candidate) => candidate.provider === provider);
          return (
            <li key={provider}>
              <strong>{PROVIDER_LABELS[provider] ?? provider}</strong>{' '}
              {connection ? (
                <>
                  <span class="badge">{connection.status}</span>
                  {connection.backfill && (
                    <span>
                      {' '}
                      history: {connection.backfill.fetched} fetched, {connection.backfill.pending} to go ({connection.backfill.status})
                    </span>
                  )}{' '}
                  <button
                    type="button"
                    onClick={async () => {
                      if (!confirm(`Disconnect ${PROVIDER_LABELS[provider]}? Its activities stay.`)) return;
                      await api.connections.disconnect({ id: athleteId, provider }).catch((caught: unknown) => setError(messageOf(caught)));
                      await refresh();
                    }}
                  >
                    Disconnect
                  </button>
                </>
              ) : (
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      const { authorizeUrl } = await api.connections.connect({ id: athleteId, provider, returnTo: location.href });
                      location.assign(authorizeUrl);
                    } catch (caught) {
                      setError(messageOf(caught));
                    }
                  }}
                >
                  Connect
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The default source priority: drag and drop, or the buttons (keyboard). */
function SourcePriority() {
  const { athleteId } = useApp();
  const [order, setOrder] = useState<Source[] | null>(null);
  const [dragged, setDragged] = useState<number | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api.athletes.getSourcePriorities({ id: athleteId }).then(
      (answer) => setOrder([...answer.default, ...ACTIVITY_SOURCES.filter((source) => !answer.default.includes(source))]),
      (caught: unknown) => setStatus(messageOf(caught)),
    );
  }, [athleteId]);
  if (!order) return null;
  const move = (from: number, to: number) => {
    if (to < 0 || to >= order.length || from === to) return;
    const next = [...order];
    const [item] = next.splice(from, 1);
    next.splice(to, 0, item!);
    setOrder(next);
    setStatus(null);
  };
  const save = async () => {
    try {
      const answer = await api.athletes.putSourcePriorities({ id: athleteId, default: order });
      setStatus(`Saved; ${answer.changedPrimaries} duplicate group(s) changed their primary.`);
    } catch (caught) {
      setStatus(`Not saved: ${messageOf(caught)}`);
    }
  };
  return (
    <section aria-labelledby="priority">
      <h2 id="priority">Source priority</h2>
      <p>When the same workout comes from several sources, the first source in this list is shown.</p>
      <ol class="priority">
        {order.map((source, index) => (
          <li
            key={source}
            draggable
            onDragStart={() => setDragged(index)}
            onDragOver={(event) => event.preventDefault()}
            onDrop={(event) => {
              event.preventDefault();
              if (dragged !== null) move(dragged, index);
              setDragged(null);
            }}
          >
            <span>{SOURCE_LABELS[source]}</span>
            <button type="button" aria-label={`Move ${SOURCE_LABELS[source]} up`} disabled={index === 0} onClick={() => move(index, index - 1)}>
              ↑
            </button>
            <button type="button" aria-label={`Move ${SOURCE_LABELS[source]} down`} disabled={index === order.length - 1} onClick={() => move(index, index + 1)}>
              ↓
            </button>
          </li>
        ))}
      </ol>
      <button type="button" onClick={save}>
        Save order
      </button>{' '}
      <span role="status">{status}</span>
    </section>
  );
}

function Export() {
  const { athleteId } = useApp();
  const [job, setJob] = useState<ExportJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setError(null);
    try {
      let current = await api.exports.create({ id: athleteId });
      setJob(current);
      while (current.status === 'queued' || current.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        current = await api.exports.getJob({ jobId: current.id });
        setJob(current);
      }
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  return (
    <section aria-labelledby="export">
      <h2 id="export">Export</h2>
      <p>Everything in one zip: activities, streams (Parquet), original files and GPX tracks.</p>
      <button type="button" onClick={start} disabled={job?.status === 'queued' || job?.status === 'running'}>
        Export all my data
      </button>{' '}
      <span role="status">
        {job && job.status !== 'completed' && `Export ${job.status}…`}
        {job?.status === 'completed' && (
          <a href={`/api/v1/exports/${job.id}/download`} download>
            Download the export ({Math.ceil((job.byteSize ?? 0) / 1024)} KiB)
          </a>
        )}
        {job?.status === 'failed' && ` ${job.error ?? ''}`}
      </span>
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}

export function SettingsPage() {
  return (
    <>
      <h1 tabIndex={-1}>Sources &amp; export</h1>
      <Connections />
      <SourcePriority />
      <Export />
    </>
  );
}
