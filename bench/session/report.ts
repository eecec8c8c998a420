// The session section of BENCHMARKS.md: per viewer, the paths' session totals and
// costs, the steps side by side, issue 13's targets marked met / not met, the
// second tab and the revisit, then Firefox's rows (issue 17).
import type { SessionRun } from './measureSession.js';
import { type SwMode, THINK_MS, type Viewer } from './runSession.js';
import { PATH_LABEL } from './sessionPlot.js';
import { SESSION, type StepResult } from './sessionScript.js';
import { med, median, runsOf, stepMedians } from './sessionStats.js';

export interface ExtrasRun {
  viewer: Viewer;
  mode: SwMode;
  /** The second tab's open (at fit), alongside the first tab's first pan. */
  secondTab: StepResult;
  /** The first tab's session, its costs counting both tabs' tiles. */
  session: SessionRun;
  revisit: {
    steps: StepResult[];
    total: number;
    originGets: number;
    serverBytes: number;
    /** Tile requests and bytes that went over the network in the revisit (page and worker Resource Timing). */
    networkRequests: number;
    networkBytes: number;
  };
}

export interface ReportInput {
  chromium: SessionRun[];
  firefox: SessionRun[];
  extras: ExtrasRun[];
  runs: number;
  latency: number;
  nginx: string;
  originConcurrency: number;
  plotFile: string;
  narrowed: string[];
  firefoxNote: string;
}

const VIEWER_LABEL: Record<Viewer, string> = { osd: 'OpenSeadragon', leaflet: 'Leaflet' };
/** A step of ours counts as slower only past 10 % and one frame (a 60 Hz frame is the measure's resolution). */
const FRAME_MS = 17;
const kib = (b: number) => (Number.isFinite(b) ? (b / 1024).toFixed(0) : '–');
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const range = (xs: number[]) =>
  xs.length > 1 ? `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})` : ms(median(xs));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? '**met**' : '**NOT met**');

function pathRows(runs: SessionRun[], viewer: Viewer, modes: SwMode[], ref: SwMode, ref2?: SwMode): string[] {
  const total = (m: SwMode) => med(runsOf(runs, viewer, m), (r) => r.total);
  return modes
    .filter((m) => runsOf(runs, viewer, m).length > 0)
    .map((m) => {
      const rs = runsOf(runs, viewer, m);
      const pf =
        m === 'ours' ? `${ms(med(rs, (r) => r.prefetched))} · ${ms(med(rs, (r) => r.prefetchUsed))}` : '–';
      return `| ${PATH_LABEL[m]} | ${range(rs.map((r) => r.total))} | ${ratio(total(m), total(ref))} | ${ref2 ? `${ratio(total(m), total(ref2))} | ` : ''}${ms(med(rs, (r) => r.originGets))} | ${kib(med(rs, (r) => r.serverBytes))} | ${ms(med(rs, (r) => r.shown))} | ${ms(med(rs, (r) => r.notShown))} · ${kib(med(rs, (r) => r.notShownBytes))} | ${pf} |`;
    });
}

function stepTable(runs: SessionRun[], viewer: Viewer, modes: SwMode[]): string[] {
  const present = modes.filter((m) => runsOf(runs, viewer, m).length > 0);
  const med = new Map(present.map((m) => [m, stepMedians(runsOf(runs, viewer, m))]));
  const both = present.includes('ours') && present.includes('none');
  const head = `| step | ${present.map((m) => `${PATH_LABEL[m]}: loaded · first tile · blank, ms`).join(' | ')} |${both ? ' ours / no worker (loaded) |' : ''}`;
  const rows = SESSION.map((s, i) => {
    const cells = present.map((m) => {
      const x = med.get(m)![i]!;
      return `${ms(x.loaded)} · ${ms(x.firstTile)} · ${ms(x.blank)}`;
    });
    const r = both ? ` ${ratio(med.get('ours')![i]!.loaded, med.get('none')![i]!.loaded)} |` : '';
    return `| ${i}. ${s.label} | ${cells.join(' | ')} |${r}`;
  });
  return [head, `|${' --- |'.repeat(present.length + 1 + (both ? 1 : 0))}`, ...rows];
}

interface Targets {
  rows: string[];
}

/** Issue 13's targets for one viewer's Chromium runs. */
function targets(runs: SessionRun[], viewer: Viewer): Targets {
  const ours = runsOf(runs, viewer, 'ours');
  const none = runsOf(runs, viewer, 'none');
  const wb = runsOf(runs, viewer, 'workbox');
  const t = (rs: SessionRun[]) => med(rs, (r) => r.total);
  const rows: string[] = [];
  const has = (rs: SessionRun[]) => rs.length > 0;
  const vsNone = has(ours) && has(none) ? t(ours) / t(none) : Number.NaN;
  const vsWb = has(ours) && has(wb) ? t(ours) / t(wb) : Number.NaN;
  rows.push(
    `| session total: ours ≤ 0.5× no worker | ${Number.isFinite(vsNone) ? `${vsNone.toFixed(2)}×` : '–'} | ${verdict(Number.isFinite(vsNone) ? vsNone <= 0.5 : undefined)} |`,
    `| session total: ours ≤ 0.6× Workbox | ${Number.isFinite(vsWb) ? `${vsWb.toFixed(2)}×` : '–'} | ${verdict(Number.isFinite(vsWb) ? vsWb <= 0.6 : undefined)} |`,
  );
  // Prefetch, from the worker's counters summed over the runs.
  const pf = ours.reduce((a, r) => a + (r.prefetched ?? 0), 0);
  const used = ours.reduce((a, r) => a + (r.prefetchUsed ?? 0), 0);
  const usedShare = pf > 0 ? used / pf : Number.NaN;
  rows.push(
    `| ≥ 60 % of prefetched tiles used (counters \`prefetch_used\` / \`prefetched\`, all runs) | ${pf > 0 ? `${used} / ${pf} = ${(100 * usedShare).toFixed(0)} %` : has(ours) ? 'no prefetch counted' : '–'} | ${verdict(pf > 0 ? usedShare >= 0.6 : undefined)} |`,
  );
  // Unused prefetched bytes: the counters' unused count at the session's mean tile size;
  // beside it the exact bytes of every tile fetched for the session and never shown.
  const visible = med(ours, (r) => r.visibleBytes);
  const meanTile = med(ours, (r) => (r.shown > 0 ? r.visibleBytes / r.shown : null));
  const unusedCount = med(ours, (r) =>
    r.prefetched === null ? null : Math.max(0, r.prefetched - (r.prefetchUsed ?? 0)),
  );
  const unusedBytes = unusedCount * meanTile;
  const never = med(ours, (r) => r.notShownBytes);
  rows.push(
    `| unused prefetched bytes ≤ 0.5× visible bytes | counters: ${ms(unusedCount)} unused × ${kib(meanTile)} KiB = ${kib(unusedBytes)} KiB vs ${kib(visible)} KiB visible (${ratio(unusedBytes, visible)}); at the origin, fetched and never shown: ${kib(never)} KiB (${ratio(never, visible)}) | ${verdict(has(ours) && Number.isFinite(unusedBytes) ? unusedBytes <= 0.5 * visible : undefined)}${Number.isFinite(never) && Number.isFinite(unusedBytes) && never <= 0.5 * visible !== unusedBytes <= 0.5 * visible ? ' (the origin count says otherwise)' : ''} |`,
  );
  const so = stepMedians(ours);
  const sn = stepMedians(none);
  const slow =
    has(ours) && has(none)
      ? SESSION.map((s, i) => ({ s, o: so[i]!.loaded, n: sn[i]!.loaded, i })).filter(
          (x) => x.o > 1.1 * x.n && x.o - x.n > FRAME_MS,
        )
      : [];
  rows.push(
    `| no step of ours > 10 % slower than no worker (and > ${FRAME_MS} ms) | ${has(ours) && has(none) ? (slow.length === 0 ? 'none slower' : slow.map((x) => `${x.i}. ${x.s.label} ${ms(x.o)} vs ${ms(x.n)} ms`).join('; ')) : '–'} | ${verdict(has(ours) && has(none) ? slow.length === 0 : undefined)} |`,
  );
  return { rows };
}

function extrasTable(extras: ExtrasRun[], chromium: SessionRun[]): string[] {
  if (extras.length === 0) return [];
  const rows = extras.map((e) => {
    const plain = med(runsOf(chromium, e.viewer, e.mode), (r) => r.originGets);
    const st = e.secondTab;
    const step = e.session.steps[4]!;
    return `| ${VIEWER_LABEL[e.viewer]} | ${PATH_LABEL[e.mode]} | ${ms(st.loaded)} · ${ms(st.firstTile ?? Number.NaN)} · ${ms(st.blank)} | ${ms(step.loaded)} (alone: ${ms(median(runsOf(chromium, e.viewer, e.mode).map((r) => r.steps[4]!.loaded)))}) | ${e.session.originGets} (alone: ${ms(plain)}) | ${ms(e.revisit.total)} | ${e.revisit.originGets} · ${kib(e.revisit.serverBytes)} KiB | ${e.revisit.networkRequests} · ${kib(e.revisit.networkBytes)} KiB |`;
  });
  return [
    '### Chromium: a second tab mid-session, and a revisit',
    "One session per path and viewer: a second tab of the same browser context opens the same image at fit alongside the first tab's step 4 (first pan); then both tabs close, the browser's HTTP cache is cleared (`Network.clearBrowserCache`; the worker's registration and caches stay), and a new tab replays the whole session on the same dataset.",
    "| viewer | path | second tab open: loaded · first tile · blank, ms | first tab's step 4 alongside, ms | session origin GETs with the second tab | revisit total, ms | revisit origin GETs · server bytes | revisit tiles over the network (requests · bytes) |",
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}

function firefoxTables(runs: SessionRun[]): string[] {
  if (runs.length === 0) return [];
  const out: string[] = ['### Firefox (issue 17)'];
  for (const v of ['osd', 'leaflet'] as const) {
    if (!runs.some((r) => r.viewer === v)) continue;
    const modes: SwMode[] = ['none', 'map', 'workbox', 'ours'];
    out.push(
      `**${VIEWER_LABEL[v]}**, Firefox over HTTP/2 (nginx, the certificate accepted through WebDriver BiDi's \`acceptInsecureCerts\`):`,
      '',
      '| path | session total, ms | vs no worker | vs minimal worker | origin GETs | server bytes, KiB | tiles shown | fetched, never shown (tiles · KiB) | our counters: prefetched · prefetch_used |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...pathRows(runs, v, modes, 'none', 'map'),
      '',
      ...stepTable(runs, v, modes),
      '',
    );
    const t = (m: SwMode) => med(runsOf(runs, v, m), (r) => r.total);
    if (runsOf(runs, v, 'ours').length && runsOf(runs, v, 'none').length) {
      out.push(
        `- ${VIEWER_LABEL[v]} in Firefox: ours ${ratio(t('ours'), t('none'))} of no worker (issue 17: never slower in a session) — ${verdict(t('ours') <= t('none'))}`,
        '',
      );
    }
  }
  return out;
}

export function renderReport(input: ReportInput): string {
  const { chromium } = input;
  const out: string[] = [
    '## Navigation session',
    `OpenSeadragon and Leaflet, each replaying one fixed session through its API with animations off: ${SESSION.map((s, i) => `${i}. ${s.label}`).join(', ')}; a ${THINK_MS} ms pause after each step. Over HTTP/2 through nginx (${input.nginx}, the shipped site, a throwaway certificate) in front of the companion server (\`ORIGIN_CONCURRENCY=${input.originConcurrency}\`), the mocked origin at ${input.latency} ms in its own process. Medians of ${input.runs} runs, each in a fresh browser context on a dataset name nobody asked for before (cold in the browser, nginx's cache and the server's memory). Plot: [${input.plotFile}](${input.plotFile}).`,
  ];
  if (input.narrowed.length) out.push(`_Narrowed run: ${input.narrowed.join(', ')}._`);
  out.push('');
  for (const v of ['osd', 'leaflet'] as const) {
    if (!chromium.some((r) => r.viewer === v)) continue;
    const modes: SwMode[] = ['none', 'workbox', 'ours'];
    out.push(
      `### Chromium · ${VIEWER_LABEL[v]}`,
      '| path | session total, ms | vs no worker | vs Workbox | origin GETs | server bytes, KiB | tiles shown | fetched, never shown (tiles · KiB) | our counters: prefetched · prefetch_used |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...pathRows(chromium, v, modes, 'none', 'workbox'),
      '',
      ...stepTable(chromium, v, modes),
      '',
      '| issue 13 target | figure | |',
      '| --- | --- | --- |',
      ...targets(chromium, v).rows,
      '',
    );
  }
  out.push(...extrasTable(input.extras, chromium));
  out.push(...firefoxTables(input.firefox));
  if (input.firefoxNote) out.push(input.firefoxNote, '');
  const protos = new Map<string, number>();
  for (const r of [...chromium, ...input.firefox]) {
    if (r.mode !== 'none') continue;
    for (const [k, n] of Object.entries(r.protocols))
      protos.set(`${r.engine} ${k}`, (protos.get(`${r.engine} ${k}`) ?? 0) + n);
  }
  out.push(
    `Method. Each step is timed in the page from just before the viewer API call: **loaded** until the viewer reported everything for the new view in (OpenSeadragon: the viewer's \`fully-loaded-change\` to true; Leaflet: the tile layer's \`load\`; 0 when the view needed no new tile); **first tile** until the first tile of the step arrived (\`tile-loaded\` / \`tileload\`; – when none was needed); **blank** until the first animation frame in which every point of a 16 × 12 grid over the image inside the view lay in a drawn tile of any level (OpenSeadragon's canvas drawer's last drawn tiles, Leaflet's loaded \`<img>\` tiles of every zoom level; 0 when the first frame after the move was covered, as when OpenSeadragon's zoom shows the level below; Leaflet zoomed without animation drops the old level's tiles first, so its zooms are blank until the new level is in, on every path). Session total = sum of the steps' loaded. Origin GETs: tile requests the mocked origin saw for the session's dataset; server bytes: body bytes the companion server sent for the dataset's tile requests (nginx in front may answer repeats from its cache); fetched, never shown: tiles the origin was asked for that no tab of the session showed (prefetch that missed, tiles the viewer cancelled). Our counters are the worker's \`prefetched\` / \`prefetch_used\` as its stats report them. No-worker tile requests went over: ${[...protos].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none recorded'} (\`nextHopProtocol\`).`,
  );
  return out.join('\n');
}
