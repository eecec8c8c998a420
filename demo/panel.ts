import type { PoolStats } from '../src/client/pool/index.js';
import type { LatencyHistogram } from './histogram.js';
import type { StoreStats } from './tileStore.js';
import type { FrameInfo } from './viewer.js';

export interface PanelSources {
  dataset: string;
  mode(): { renderer: string; textureFormat: string; decode: string; accelerator: string };
  frame(): FrameInfo;
  store(): StoreStats;
  pool(): PoolStats | undefined;
  /** The service worker's counters (acc.stats()), when it runs. */
  swStats(): Promise<unknown>;
  histogram: LatencyHistogram;
}

// Server stats the panel picks out by name (the seeds' names plus ours); anything else is listed after.
const SERVER_KEYS = [
  'hit_rate',
  'cache_hits',
  'cache_misses',
  'shared_cache_hits',
  'total_requests',
  'origin.coalesced',
  'origin.in_flight',
  'origin.latency_ms.p50',
  'origin.latency_ms.p95',
  'cache_bytes',
  'cache_size',
  'prefetch_queue',
  'origin.breaker',
];

/** Fills the side panel once a second. */
export function startPanel(root: HTMLElement, src: PanelSources): void {
  const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
  const hist = $<HTMLCanvasElement>('#latency');
  const tick = async () => {
    const m = src.mode();
    const f = src.frame();
    const s = src.store();
    const p = src.pool();
    table($('#mode'), {
      renderer: m.renderer,
      texture: m.textureFormat,
      decode: m.decode,
      'service worker': m.accelerator,
      level: `z=${f.level}`,
      'tiles drawn': Object.entries(f.rendered)
        .map(([z, n]) => `z${z}: ${n}`)
        .join(', '),
      'GPU texture bytes': fmtBytes(s.textureBytes),
    });
    table(
      $('#pool'),
      p
        ? {
            workers: `${p.workers}/${p.size} (${p.busy} busy)`,
            queued: `${p.queuedVisible} visible, ${p.queuedPrefetch} prefetch`,
            completed: p.completed,
            'mean decode': p.completed ? `${(p.runMs / p.completed).toFixed(1)} ms` : '–',
            'failed / cancelled': `${p.failed} / ${p.cancelled}`,
            'deadline / crashed': `${p.deadlineExceeded} / ${p.crashed}`,
          }
        : { pool: 'off (decoding on the main thread)' },
    );
    const p50 = src.histogram.percentile(50);
    const p95 = src.histogram.percentile(95);
    $('#latency-label').textContent =
      p50 === undefined ? 'no tiles yet' : `p50 ${p50.toFixed(0)} ms · p95 ${p95!.toFixed(0)} ms`;
    src.histogram.draw(hist);
    try {
      const sw = await src.swStats();
      table(
        $('#sw'),
        sw && typeof sw === 'object'
          ? flatten(sw as Record<string, unknown>)
          : { 'service worker': 'not running' },
      );
    } catch (e) {
      table($('#sw'), { 'service worker': `stats unavailable: ${e instanceof Error ? e.message : e}` });
    }
    try {
      const res = await fetch(`/api/tiles/${src.dataset}/cache-stats`, {
        cache: 'no-store',
        signal: AbortSignal.timeout(2000),
      });
      const body = (await res.json()) as { stats?: Record<string, unknown> };
      const flat = flatten(body.stats ?? {});
      const ordered: Record<string, unknown> = {};
      for (const k of SERVER_KEYS) if (k in flat) ordered[k] = flat[k];
      for (const [k, v] of Object.entries(flat)) if (!(k in ordered)) ordered[k] = v;
      table($('#server'), ordered);
    } catch {
      table($('#server'), { server: 'unreachable' });
    }
  };
  void tick();
  setInterval(tick, 1000);
}

function flatten(
  o: Record<string, unknown>,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function table(el: HTMLElement, rows: Record<string, unknown>): void {
  const frag = document.createDocumentFragment();
  for (const [k, v] of Object.entries(rows)) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent =
      typeof v === 'number' && /bytes/i.test(k)
        ? fmtBytes(v)
        : typeof v === 'number' && !Number.isInteger(v)
          ? v.toFixed(1)
          : String(v);
    tr.append(th, td);
    frag.append(tr);
  }
  el.replaceChildren(frag);
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
