import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf } from './api.js';

const TILE = 256;
/** MAP_TILE_URL of the deployment, if any (the server writes it into the page); no tiles otherwise. */
const tileUrl = document.querySelector<HTMLMetaElement>('meta[name="map-tile-url"]')?.content || null;

/** Web Mercator, in world pixels at zoom 0 (0–256). */
function project(latitude: number, longitude: number): [number, number] {
  const sin = Math.sin((Math.max(-85.05, Math.min(85.05, latitude)) * Math.PI) / 180);
  return [((longitude + 180) / 360) * TILE, (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * TILE];
}

interface Drawn {
  path: string;
  points: number;
  width: number;
  height: number;
  tiles: { href: string; x: number; y: number; size: number }[];
  start: [number, number];
  end: [number, number];
}

/**
 * The route from the position stream, projected (Web Mercator) into an SVG path that fits the box;
 * the stream is read simplified to about the box's width in points. With MAP_TILE_URL set, raster
 * tiles of the fitting zoom level are drawn under it.
 */
export function RouteMap({ activityId }: { activityId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [drawn, setDrawn] = useState<Drawn | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = Math.max(200, Math.floor(element.clientWidth));
    let cancelled = false;
    api.streams
      .get({ id: activityId, type: 'position', maxPoints: width })
      .then((samples) => {
        if (cancelled) return;
        const projected = (samples.latitude ?? []).map((latitude, index) => project(latitude, samples.longitude![index]!));
        if (projected.length === 0) return setDrawn(null);
        const xs = projected.map(([x]) => x);
        const ys = projected.map(([, y]) => y);
        const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
        const padding = 16;
        // The box takes the route's proportions, between 120 and 360 pixels high.
        const height = Math.round(Math.max(120, Math.min(360, ((maxY - minY) / Math.max(maxX - minX, 1e-9)) * (width - 2 * padding) + 2 * padding)));
        // World pixels at zoom 0 → box pixels; with tiles, a whole zoom level so that tiles line up.
        let scale = Math.min((width - 2 * padding) / Math.max(maxX - minX, 1e-9), (height - 2 * padding) / Math.max(maxY - minY, 1e-9));
        const zoom = Math.max(0, Math.min(18, Math.floor(Math.log2(scale))));
        if (tileUrl) scale = 2 ** zoom;
        const offsetX = width / 2 - ((minX + maxX) / 2) * scale;
        const offsetY = height / 2 - ((minY + maxY) / 2) * scale;
        const at = ([x, y]: [number, number]): [number, number] => [x * scale + offsetX, y * scale + offsetY];
        const path = projected.map((point, index) => `${index ? 'L' : 'M'}${at(point)[0].toFixed(1)} ${at(point)[1].toFixed(1)}`).join('');
        const tiles: Drawn['tiles'] = [];
        if (tileUrl) {
          const count = 2 ** zoom;
          for (let tx = Math.floor(-offsetX / TILE); tx * TILE + offsetX < width; tx += 1) {
            for (let ty = Math.floor(-offsetY / TILE); ty * TILE + offsetY < height; ty += 1) {
              if (ty < 0 || ty >= count) continue;
              const wrapped = ((tx % count) + count) % count;
              tiles.push({ href: tileUrl.replace('{z}', String(zoom)).replace('{x}', String(wrapped)).replace('{y}', String(ty)), x: tx * TILE + offsetX, y: ty * TILE + offsetY, size: TILE });
            }
          }
        }
        setDrawn({ path, points: projected.length, width, height, tiles, start: at(projected[0]!), end: at(projected.at(-1)!) });
      })
      .catch((caught: unknown) => !cancelled && setError(messageOf(caught)));
    return () => {
      cancelled = true;
    };
  }, [activityId]);

  return (
    <figure class="route">
      <figcaption>Route</figcaption>
      <div ref={host}>
        {drawn && (
          <svg width={drawn.width} height={drawn.height} viewBox={`0 0 ${drawn.width} ${drawn.height}`} role="img" aria-label={`Route map, ${drawn.points} points`}>
            <rect width={drawn.width} height={drawn.height} fill="#f1f5f9" />
            {drawn.tiles.map((tile) => (
              <image key={tile.href} href={tile.href} x={tile.x} y={tile.y} width={tile.size} height={tile.size} />
            ))}
            <path d={drawn.path} data-points={drawn.points} fill="none" stroke="#c2410c" stroke-width="3" stroke-linejoin="round" stroke-linecap="round" />
            <circle cx={drawn.start[0]} cy={drawn.start[1]} r="5" fill="#15803d" />
            <circle cx={drawn.end[0]} cy={drawn.end[1]} r="5" fill="#b91c1c" />
          </svg>
        )}
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </figure>
  );
}
