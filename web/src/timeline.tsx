import { useEffect, useRef, useState } from 'preact/hooks';
import { ACTIVITY_SOURCES } from '../../libs/contract/src/catalog.js';
import { api, messageOf, type Api } from './api.js';
import { useApp } from './context.js';
import { CATEGORY_ICONS, distance, duration, hours, humanize, localStart, SOURCE_LABELS, weekLabel, weekOf } from './format.js';

type ListInput = Parameters<Api['activities']['list']>[0];
type ListAnswer = Awaited<ReturnType<Api['activities']['list']>>;
export type Item = ListAnswer['items'][number];

interface Filters {
  category: string;
  source: string;
  from: string;
  to: string;
}

const PAGE = 50;
/** Copies start at most 10 minutes apart (README, "Duplicates across sources"). */
const GROUP_WINDOW_MS = 10 * 60_000;

export function SourceBadge({ source }: { source: string }) {
  return <span class={`badge source-${source}`}>{SOURCE_LABELS[source] ?? source}</span>;
}

function query(athleteId: string, filters: Filters): ListInput {
  return {
    athleteId,
    topLevelOnly: true,
    limit: PAGE,
    ...(filters.category ? { category: filters.category as never } : {}),
    ...(filters.source ? { source: filters.source as never } : {}),
    // Dates of the filter are the browser's local days.
    ...(filters.from ? { startTimeFrom: new Date(`${filters.from}T00:00:00`) } : {}),
    ...(filters.to ? { startTimeTo: new Date(new Date(`${filters.to}T00:00:00`).getTime() + 86_400_000) } : {}),
  };
}

/**
 * The other members of the duplicate groups of a page, by their primary's id: one list with
 * includeDuplicates over the page's time span (members start at most 10 minutes from their primary).
 */
async function membersOf(athleteId: string, items: Item[]): Promise<Map<string, Item[]>> {
  const members = new Map<string, Item[]>();
  const primaries = items.filter((item) => item.duplicateCount > 0);
  if (primaries.length === 0) return members;
  const times = primaries.map((item) => item.startTime.getTime());
  let cursor: string | undefined;
  do {
    const page = await api.activities.list({
      athleteId,
      includeDuplicates: true,
      topLevelOnly: true,
      limit: 200,
      startTimeFrom: new Date(Math.min(...times) - GROUP_WINDOW_MS),
      startTimeTo: new Date(Math.max(...times) + GROUP_WINDOW_MS + 1),
      ...(cursor ? { cursor } : {}),
    });
    for (const item of page.items) {
      if (!item.duplicateOf) continue;
      members.set(item.duplicateOf, [...(members.get(item.duplicateOf) ?? []), item]);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return members;
}

function Row({ item, members }: { item: Item; members: Item[] }) {
  const { types, units } = useApp();
  const [open, setOpen] = useState(false);
  const type = types.get(item.activityType);
  const sources = [item.source, ...members.map((member) => member.source)].filter((source, index, all) => all.indexOf(source) === index);
  return (
    <li class="row" data-activity-id={item.id}>
      <span class={`icon category-${type?.category ?? 'other'}`} aria-hidden="true">
        {CATEGORY_ICONS[type?.category ?? 'other'] ?? CATEGORY_ICONS.other}
      </span>
      <div class="what">
        <a href={`#/activity/${item.id}`} class="name">
          {item.name || type?.displayName || humanize(item.activityType)}
        </a>
        {item.name && <span class="type">{type?.displayName ?? humanize(item.activityType)}</span>}
      </div>
      <time class="when" dateTime={item.startTime.toISOString()}>
        {localStart(item.startTime, item.timeZone)}
      </time>
      <span class="num distance">{distance(item.distanceM, units)}</span>
      <span class="num duration">{duration(item.durationS)}</span>
      <span class="sources">
        {sources.map((source) => (
          <SourceBadge key={source} source={source} />
        ))}
        {item.duplicateCount > 0 && (
          <button type="button" class="link copies" aria-expanded={open} onClick={() => setOpen(!open)}>
            {item.duplicateCount} {item.duplicateCount === 1 ? 'copy' : 'copies'}
          </button>
        )}
      </span>
      {open && (
        <ul class="members" aria-label="Copies of this activity from other sources">
          {members.map((member) => (
            <li key={member.id}>
              <SourceBadge source={member.source} /> <a href={`#/activity/${member.id}`}>{member.name || humanize(member.activityType)}</a>{' '}
              {localStart(member.startTime, member.timeZone)} · {distance(member.distanceM, units)} · {duration(member.durationS)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

interface Week {
  monday: string;
  items: Item[];
}

function weeks(items: Item[]): Week[] {
  const result: Week[] = [];
  for (const item of items) {
    const monday = weekOf(item.startTime, item.timeZone);
    const last = result.at(-1);
    if (last?.monday === monday) last.items.push(item);
    else result.push({ monday, items: [item] });
  }
  return result;
}

function WeekTotals({ week }: { week: Week }) {
  const { types, units } = useApp();
  const distanceM = week.items.reduce((sum, item) => sum + (item.distanceM ?? 0), 0);
  const durationS = week.items.reduce((sum, item) => sum + (item.durationS ?? 0), 0);
  const byCategory = new Map<string, number>();
  for (const item of week.items) {
    const category = types.get(item.activityType)?.category ?? 'other';
    byCategory.set(category, (byCategory.get(category) ?? 0) + 1);
  }
  return (
    <p class="week-totals">
      <span>{week.items.length} {week.items.length === 1 ? 'activity' : 'activities'}</span>
      <span>{distance(distanceM, units)}</span>
      <span>{hours(durationS)}</span>
      {[...byCategory].map(([category, count]) => (
        <span key={category}>
          {humanize(category)}: {count}
        </span>
      ))}
    </p>
  );
}

export function TimelinePage() {
  const { athleteId, types, units } = useApp();
  const [filters, setFilters] = useState<Filters>({ category: '', source: '', from: '', to: '' });
  const [items, setItems] = useState<Item[]>([]);
  const [members, setMembers] = useState<Map<string, Item[]>>(new Map());
  const [totals, setTotals] = useState<ListAnswer['totals']>();
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sentinel = useRef<HTMLLIElement>(null);
  const generation = useRef(0);

  const load = async (next: string | undefined, reset: boolean) => {
    const mine = reset ? ++generation.current : generation.current;
    setLoading(true);
    try {
      const page = await api.activities.list({ ...query(athleteId, filters), ...(next ? { cursor: next } : { includeTotals: true }) });
      const groups = await membersOf(athleteId, page.items);
      if (mine !== generation.current) return;
      setItems((previous) => (reset ? page.items : [...previous, ...page.items]));
      setMembers((previous) => new Map([...(reset ? [] : previous), ...groups]));
      if (!next) setTotals(page.totals);
      setCursor(page.nextCursor);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(messageOf(caught));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    setItems([]);
    setCursor(undefined);
    void load(undefined, true);
  }, [athleteId, filters]);

  // Infinite scroll: the next page once the end of the list comes near.
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !cursor || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void load(cursor, false);
    }, { rootMargin: '600px' });
    observer.observe(element);
    return () => observer.disconnect();
  }, [cursor, loading]);

  const categories = [...new Set([...types.values()].map((type) => type.category))];
  const setFilter = (name: keyof Filters) => (event: Event) => setFilters({ ...filters, [name]: (event.currentTarget as HTMLInputElement).value });

  return (
    <>
      <h1 tabIndex={-1}>Timeline</h1>
      <form class="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Category
          <select value={filters.category} onChange={setFilter('category')}>
            <option value="">All</option>
            {categories.map((category) => (
              <option key={category} value={category}>
                {humanize(category)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select value={filters.source} onChange={setFilter('source')}>
            <option value="">All</option>
            {ACTIVITY_SOURCES.map((source) => (
              <option key={source} value={source}>
                {SOURCE_LABELS[source]}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={filters.from} onChange={setFilter('from')} />
        </label>
        <label>
          To
          <input type="date" value={filters.to} onChange={setFilter('to')} />
        </label>
      </form>
      {totals && (
        <p class="totals" data-testid="totals">
          <strong>{totals.count}</strong> {totals.count === 1 ? 'activity' : 'activities'} · <strong>{distance(totals.distanceM, units)}</strong> ·{' '}
          <strong>{hours(totals.durationS)}</strong>
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!loading && items.length === 0 && !error && (
        <p class="empty">
          No activities yet. <a href="#/import">Import files</a> or connect a provider.
        </p>
      )}
      {weeks(items).map((week) => (
        <section key={week.monday} class="week" aria-label={weekLabel(week.monday)}>
          <h2>{weekLabel(week.monday)}</h2>
          <WeekTotals week={week} />
          <ul class="rows">
            {week.items.map((item) => (
              <Row key={item.id} item={item} members={members.get(item.id) ?? []} />
            ))}
          </ul>
        </section>
      ))}
      <ul class="rows" aria-hidden="true">
        <li ref={sentinel} class="sentinel" />
      </ul>
      {loading && <p class="loading" role="status">Loading…</p>}
    </>
  );
}
