import { type BrowserTally, GRACE_MS } from './browser.js';
import type { LoadTally } from './load.js';
import type { SoakSample } from './server.js';

export interface SoakResult {
  minutes: number;
  workers: number;
  /** The SOAK_* variables the run was started with (for the command line in the table). */
  env?: string;
  wallMs: number;
  machine: string;
  tally: LoadTally;
  samples: SoakSample[];
  /** 5 s before any load: the machine's own event-loop noise. */
  idle: SoakSample;
  /** After the load stopped and the faults were switched off. */
  quiet: SoakSample;
  /** After the client closed its connections. */
  afterClose: SoakSample;
  /** The browser lane's figures; absent when it was off (SOAK_BROWSER=0 or no Chromium). */
  browser?: BrowserTally;
}

/** Least-squares slope of y over time, per minute. */
export function slopePerMin(samples: SoakSample[], y: (s: SoakSample) => number): number {
  const n = samples.length;
  if (n < 2) return 0;
  const xs = samples.map((s) => (s.t - samples[0]!.t) / 60_000);
  const ys = samples.map(y);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const f1 = (n: number) => n.toFixed(1);

export function renderSoak(r: SoakResult): string {
  const s = r.samples;
  const warm = s.slice(Math.min(1, s.length - 1)); // first sample is before any load
  const half = warm.slice(Math.floor(warm.length / 2));
  const last = s.at(-1)!;
  const eldP99 = warm.map((x) => x.eldP99Ms).sort((a, b) => a - b);
  const t = r.tally;
  const rps = t.requests / (r.wallMs / 1000);
  const lines = [
    `### Soak: ${r.minutes} min, ${r.workers} concurrent clients (${new Date().toISOString().slice(0, 16)}Z)`,
    '',
    `Machine: ${r.machine}. Command: \`${r.env ?? `SOAK_MINUTES=${r.minutes}`} npm run soak\`.`,
    '',
    '| figure | value | pass when |',
    '| --- | --- | --- |',
    `| requests (tiles asked) | ${t.requests} (${t.tiles}), ${f1(rps)} req/s | – |`,
    `| statuses | ${Object.entries(t.statuses)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} | – |`,
    `| error codes seen | ${
      Object.entries(t.codes)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || 'none'
    } | coded, 4xx/5xx |`,
    `| wrong bytes | ${t.wrongBytes} | 0 |`,
    `| client deadline misses (${10} s) | ${t.deadlineMisses} | 0 |`,
    `| watchdog stalls (pending, no completion for 30 s) | ${t.stalls} | 0 |`,
    `| slowest request | ${Math.round(t.maxLatencyMs)} ms | < 10 000 ms |`,
    `| batches abandoned by the client | ${t.clientAborts} | – |`,
    `| heap used after GC: first / last / max | ${f1(warm[0]!.heapUsedMB)} / ${f1(last.heapUsedMB)} / ${f1(Math.max(...warm.map((x) => x.heapUsedMB)))} MB | flat |`,
    `| heap slope, second half | ${slopePerMin(half, (x) => x.heapUsedMB).toFixed(2)} MB/min | ≈ 0 |`,
    `| RSS first / last / max | ${f1(warm[0]!.rssMB)} / ${f1(last.rssMB)} / ${f1(Math.max(...warm.map((x) => x.rssMB)))} MB | flat |`,
    `| RSS slope, second half | ${slopePerMin(half, (x) => x.rssMB).toFixed(2)} MB/min | ≈ 0 |`,
    `| event-loop delay p99 per window: median / worst (idle baseline) | ${f1(eldP99[Math.floor(eldP99.length / 2)] ?? 0)} / ${f1(eldP99.at(-1) ?? 0)} ms (${f1(r.idle.eldP99Ms)} ms) | bounded |`,
    `| origin requests / retries / failures | ${last.engine.originRequests} / ${last.engine.retries} / ${last.engine.failures} | – |`,
    `| cache hits / misses, evictions | ${last.hits} / ${last.misses}, ${last.evictions} | churn > 0 |`,
    `| after load, faults off 4 s: engine in flight / queued | ${r.quiet.engine.inFlight} / ${r.quiet.engine.queued} | 0 / 0 |`,
    `| after load: origin sockets (pool limit 16) | ${r.quiet.originSockets} | ≤ 16 |`,
    `| server sockets: under load (max) / after the client closed | ${Math.max(...warm.map((x) => x.serverSockets))} / ${r.afterClose.serverSockets} | ≤ ${r.workers * 2}${r.browser ? ' + 6 (the browser)' : ''} / 0 |`,
    `| breaker at end | ${r.quiet.engine.breaker} | closed |`,
    ...browserRows(r.browser),
    '',
    'Method: the companion server and the mocked origin run in a child process (`--expose-gc`, sampled over IPC',
    'after a forced GC); the parent drives a seeded mix (50 % single tiles, 30 % POST batches of 8–64 tiles,',
    '60 % of them binary, 8 % of batches abandoned after 5–45 ms, 15 % ranged video reads, 4 % malformed keys,',
    '1 % owner cache-clears) over 1365 tiles with a 2 MiB cache (constant eviction). The origin answers 3 % of',
    'requests with 503 and cycles every 20 s through 3 s of mid-body resets on a quarter of the keys and 3 s of',
    'hangs on an eighth. Every body is compared with the bytes the origin holds.',
    ...(r.browser
      ? [
          `Browser lane: headless Chromium, ${r.browser.tabs} tabs controlled by our worker (prefetch on; 1 MiB memory`,
          'and 4 MiB persistent cache so both layers evict), each random-walking a 5 × 4 viewport of `<img>` PNG tiles',
          'over a second 5461-tile pyramid on the same flaky origin (a step every 300–800 ms: pans, zooms, 8 % jumps,',
          '12 % revisits), now and then a ranged video read through the worker (bytes checked in the page) and a',
          '`<video>` seek in a real H.264 clip. Its',
          "watchdog counts a stall when a tab's visible tiles are pending and none completed for 30 s. At the end,",
          'with the faults off, four viewports must load completely and a sample of loaded tiles is re-read through',
          'the worker and compared with the origin bytes.',
        ]
      : ['Browser lane: off (SOAK_BROWSER=0 or no Chromium found).']),
  ];
  return lines.join('\n');
}

/** first / last / max (slope over the second half) of [t, y] samples; the first sample (before the walks warmed anything) is skipped. */
function series(xs0: Array<[number, number]>, unit = 'MB'): string | undefined {
  const xs = xs0.slice(1);
  if (xs.length === 0) return undefined;
  const ys = xs.map(([, y]) => y);
  const half = xs.slice(Math.floor(xs.length / 2)).map(([t, y]) => ({ t, rssMB: y }) as SoakSample);
  return `${f1(ys[0]!)} / ${f1(ys.at(-1)!)} / ${f1(Math.max(...ys))} ${unit} (${slopePerMin(half, (x) => x.rssMB).toFixed(2)} ${unit}/min)`;
}

/** Chromium's summed PSS and its split by process type; slopes are over the second half of the samples, as for the server. */
function rssRows(b: BrowserTally): string[] {
  const total = series(b.rss);
  if (!total) return ['| browser: Chromium memory | not measured | – |'];
  const rows = [
    `| browser: Chromium memory (PSS summed over its processes): first / last / max (slope, second half) | ${total} | flat |`,
  ];
  const kinds = [...new Set((b.rssByType ?? []).flatMap(([, by]) => Object.keys(by)))]
    .filter((k) => k !== 'renderers')
    .sort();
  const renderers = Math.max(0, ...(b.rssByType ?? []).map(([, by]) => by.renderers ?? 0));
  for (const k of kinds) {
    const col = series(b.rssByType.map(([t, by]) => [t, by[k] ?? 0]));
    const what =
      k === 'renderer+sw'
        ? 'renderer running the ServiceWorker thread'
        : k === 'renderer'
          ? `other renderers (${renderers} renderer processes in all)`
          : k;
    rows.push(`| browser: … of which ${what} | ${col} | – |`);
  }
  rows.push(...dumpRows(b));
  const heap = series((b.pageHeap ?? []).map(([t, mb]) => [t, mb]));
  const nodes = series(
    (b.pageHeap ?? []).map(([t, , n]) => [t, n]),
    'nodes',
  );
  if (heap)
    rows.push(`| browser: the tabs' JS heap used, summed (CDP Runtime.getHeapUsage) | ${heap} | flat |`);
  if (nodes)
    rows.push(`| browser: the tabs' DOM nodes, summed (CDP Memory.getDOMCounters) | ${nodes} | flat |`);
  const swm = series((b.swMem ?? []).map(([t, m]) => [t, m / 2 ** 20]));
  const swc = series(
    (b.swMem ?? []).map(([t, , c]) => [t, c]),
    'entries',
  );
  if (swm)
    rows.push(`| browser: worker memory tier bytes (stats memory_bytes, limit 1 MiB) | ${swm} | ≤ 1 MiB |`);
  const cs = b.cacheStorage;
  if (cs)
    rows.push(
      `| browser: Cache Storage seen from the page at stop: caches / entries / body bytes | ${cs.caches} / ${cs.entries} / ${f1(cs.bytes / 2 ** 20)} MB | entries ≈ cache_size, ≤ 4 MiB |`,
    );
  if (swc) rows.push(`| browser: worker cache_size | ${swc} | bounded |`);
  return rows;
}

/** Where Chromium's own allocators grew between the walks' start and stop (memory-infra dumps), per process kind. */
function dumpRows(b: BrowserTally): string[] {
  const { start, end, afterGc } = b.memDump ?? {};
  if (!start || !end) return [];
  return [
    ...dumpDiff(start, end, 'walk start → stop'),
    ...(afterGc ? dumpDiff(start, afterGc, 'walk start → stop after a forced GC') : []),
  ];
}

function dumpDiff(
  start: Record<string, Record<string, number>>,
  end: Record<string, Record<string, number>>,
  what: string,
): string[] {
  const rows: string[] = [];
  for (const kind of Object.keys(end).sort()) {
    const grew = Object.entries(end[kind]!)
      .map(([name, mb]) => [name, mb, mb - (start[kind]?.[name] ?? 0)] as const)
      .filter(([, , d]) => Math.abs(d) >= 2)
      .sort((x, y) => y[2] - x[2])
      .slice(0, 8)
      .map(([name, mb, d]) => `${name} ${d >= 0 ? '+' : ''}${f1(d)} (${f1(mb)})`);
    if (grew.length > 0)
      rows.push(
        `| browser: memory-infra ${kind}: allocators that moved ≥ 2 MB, ${what} (size then), MB | ${grew.join(', ')} | – |`,
      );
  }
  return rows;
}

function browserRows(b: BrowserTally | undefined): string[] {
  if (!b) return ['| browser lane | off | – |'];
  const ab =
    b.worker === false
      ? ['| browser: service worker | OFF (SOAK_BROWSER_WORKER=0: <img>s straight to the server) | – |']
      : [];
  const s = b.stats;
  const e = b.statsEnd ?? s;
  const v = (x: number | undefined) => (x === undefined ? '?' : String(x));
  return [
    ...ab,
    `| browser: viewports shown (${b.tabs} tabs): pans / zooms / jumps / revisits | ${b.viewports}: ${b.steps.pan} / ${b.steps.zoom} / ${b.steps.jump} / ${b.steps.revisit} | – |`,
    `| browser: img loads / errors (during or ≤ ${GRACE_MS / 1000} s after a reset/hang phase; other) | ${b.loads} / ${b.errors} (${b.errorsInFaults}; ${b.errorsOther}) | other 0 |`,
    `| browser: failed imgs fetched once more (first 40 per tab): answers | ${
      Object.entries(b.probes)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '–'
    } | – |`,
    `| browser, faults off: check viewports' img loads / errors | ${b.calmLoads} / ${b.calmErrors} | errors 0 |`,
    `| browser: worker tile requests, hit rate | ${v(e?.total_requests)}, ${e?.hit_rate ?? '?'} | – |`,
    `| browser: worker prefetched / prefetch_used (skipped) | ${v(e?.prefetched)} / ${v(e?.prefetch_used)} (${v(e?.prefetch_skipped)}) | used > 0 |`,
    `| browser: worker cache hits, memory / Cache Storage (coalesced) | ${v(e?.memory_hits)} / ${v(e?.cache_storage_hits)} (${v(e?.coalesced)}) | – |`,
    `| browser: worker batches (tiles, largest) / batch failures / single fetches | ${v(e?.batches)} (${v(e?.batch_tiles)}, ${v(e?.batch_max)}) / ${v(e?.batch_failures)} / ${v(e?.network_fetches)} | – |`,
    `| browser: worker fallbacks / quota errors / write timeouts / evictions | ${v(e?.fallbacks)} / ${v(e?.quota_errors)} / ${v(e?.write_timeouts)} / ${v(e?.evictions)} | – |`,
    `| browser: video range reads ok / failed / wrong (worker video chunk hits / fetches) | ${b.video.ok} / ${b.video.failed} / ${b.video.wrong} (${v(e?.video_chunk_hits)} / ${v(e?.video_chunk_fetches)}) | wrong 0 |`,
    `| browser: \`<video>\` seeks in a real clip: asked / seeked / timed out (15 s) / media errors | ${
      b.seek.playable
        ? `${b.seek.seeks} / ${b.seek.seeked} / ${b.seek.timeouts} / ${b.seek.errors}`
        : 'skipped: this Chromium cannot decode H.264'
    } | – |`,
    ...rssRows(b),
    `| browser: watchdog stalls (visible tiles pending, no img completed for 30 s) | ${b.stalls} | 0 |`,
    `| browser: loaded tiles re-read through the worker: exact / failed (sources) | ${b.readbackOk} / ${b.readbackFailed} (${
      Object.entries(b.readbackSources)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '–'
    }) | failed 0 |`,
    `| browser: wrong bytes (tiles re-read + video) | ${b.wrongBytes} | 0 |`,
    `| browser: worker in flight at the end / stats samples / page errors / unanswered polls | ${v(b.statsEnd?.in_flight)} / ${b.statsSamples} / ${b.pageErrors} / ${b.unanswered} | 0 / – / 0 / 0 |`,
  ];
}
