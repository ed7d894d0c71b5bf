import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, messageOf } from './api.js';
import { clock } from './format.js';

export interface ChartSpec {
  /** The activity whose stream it is (a duplicate group's member for a stream the primary lacks). */
  activityId: string;
  streamType: 'heart_rate' | 'speed' | 'altitude' | 'power' | 'cadence';
  label: string;
  unit: string;
  color: string;
  /** Converts a stored value into the shown unit (m/s to km/h or mph, m to ft). */
  scale?: number;
}

/**
 * One stream over the time since the start, drawn by uPlot. The stream is read downsampled to the
 * chart's width in CSS pixels (`maxPoints`): one point per pixel column, whatever the recording's length.
 */
export function StreamChart({ spec, startMs }: { spec: ChartSpec; startMs: number }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [points, setPoints] = useState<number | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = Math.max(200, Math.floor(element.clientWidth));
    let plot: uPlot | undefined;
    let resize: ResizeObserver | undefined;
    let cancelled = false;
    api.streams
      .get({ id: spec.activityId, type: spec.streamType, maxPoints: width })
      .then((samples) => {
        if (cancelled) return;
        const values = samples.values ?? [];
        const x = samples.timestamps.map((t) => (t - startMs) / 1000);
        const y = values.map((value) => value * (spec.scale ?? 1));
        plot = new uPlot(
          {
            width,
            height: 180,
            legend: { show: true },
            cursor: { drag: { x: true, y: false } },
            scales: { x: { time: false } },
            axes: [
              { values: (_u, ticks) => ticks.map((tick) => clock(tick)), stroke: '#334155' },
              { label: spec.unit, stroke: '#334155', size: 56 },
            ],
            series: [{ label: 'Time', value: (_u, v) => (v === null ? '—' : clock(v)) }, { label: spec.label, stroke: spec.color, width: 1.5, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} ${spec.unit}`) }],
          },
          [x, y],
          element,
        );
        setPoints(x.length);
        // Follows the page's width; the samples stay those read for the first width.
        resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, Math.floor(element.clientWidth)), height: 180 }));
        resize.observe(element);
      })
      .catch((caught: unknown) => !cancelled && setError(messageOf(caught)));
    return () => {
      cancelled = true;
      resize?.disconnect();
      plot?.destroy();
    };
  }, [spec.activityId, spec.streamType, spec.scale, startMs]);

  return (
    <figure class="chart" data-stream-type={spec.streamType} data-points={points ?? undefined}>
      <figcaption>
        {spec.label} ({spec.unit})
      </figcaption>
      <div ref={host} class="plot" role="img" aria-label={`${spec.label} over time${points ? `, ${points} points` : ''}`} />
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </figure>
  );
}
