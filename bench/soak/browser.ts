// The soak's browser lane: headless Chromium, our service worker (prefetch on,
// small caches so they churn), two tabs random-walking <img> viewports over the
// `soakimg` pyramid. Watchdog, error dating against the origin's fault phases,
// worker stats sampling, and a byte-exact read-back at the end.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import type { SwStats } from '../../src/protocol/swMessages.js';
import { CLIP_ID, IMG_DATASET, IMG_MAX_Z, pngFor, VIDEO_BYTES, VIDEO_ID } from './dataset.js';
import type { MemoryProbe } from './memoryProbe.js';
import { SOAK_PAGE } from './page.js';

export const TABS = 2;
/** An <img> error counts as explained when its request overlapped a reset/hang phase or the next GRACE_MS. */
export const GRACE_MS = 10_000;
const STALL_MS = 30_000;
const READBACK = 150;
/** A memory-infra dump into the probe's series every SOAK_DUMP_MINUTES (default 5). */
const DUMP_MS = Number(process.env.SOAK_DUMP_MINUTES ?? 5) * 60_000;
/** Small worker caches so both layers evict all the time. */
const WORKER_CFG = { cache: { memoryBytes: 1024 * 1024, budgetBytes: 4 * 1024 * 1024 } };

export interface BrowserTally {
  tabs: number;
  viewports: number;
  steps: { pan: number; zoom: number; jump: number; revisit: number };
  loads: number;
  errors: number;
  /** Errors whose request overlapped a reset/hang phase (or the GRACE_MS after it). */
  errorsInFaults: number;
  /** The rest: during the background 3 % 503s only. */
  errorsOther: number;
  /** After the faults were switched off: every tile of the check viewports must load. */
  calmLoads: number;
  calmErrors: number;
  stalls: number;
  /** Polls the page did not answer within 10 s. */
  unanswered: number;
  readback: number;
  readbackOk: number;
  readbackFailed: number;
  readbackSources: Record<string, number>;
  wrongBytes: number;
  video: { reads: number; ok: number; wrong: number; failed: number };
  /** <video> seeks in a real clip through the worker (playable: this Chromium decodes H.264). */
  seek: { playable: boolean; seeks: number; seeked: number; timeouts: number; errors: number };
  pageErrors: number;
  /** The first failed <img>s of each tab fetched once more: status, error code, X-Tile-Source. */
  probes: Record<string, number>;
  stats?: SwStats;
  statsEnd?: SwStats;
  statsSamples: number;
  /** Summed PSS of every Chromium process (browser, renderers, the worker's), sampled with the stats: [t, MB]. */
  rss: Array<[number, number]>;
  /** The same PSS split by process type (see chromiumMemByType), sampled with it: [t, {type: MB}]. */
  rssByType: Array<[number, Record<string, number>]>;
  /** The tabs' JS heap used (CDP Runtime.getHeapUsage) and DOM nodes (Memory.getDOMCounters), summed: [t, MB, nodes]. */
  pageHeap: Array<[number, number, number]>;
  /** The worker's own memory tier and Cache Storage counters over time: [t, memory_bytes, cache_size]. */
  swMem: Array<[number, number, number]>;
  /**
   * Chromium's own memory accounting (a memory-infra dump) when the walks start and when they stop,
   * summed per process kind: {kind: {allocator: MB}} (top level and one level down).
   */
  memDump: {
    start?: Record<string, Record<string, number>>;
    end?: Record<string, Record<string, number>>;
    /** At stop, after a forced GC in the worker (gc()) and both tabs (CDP HeapProfiler.collectGarbage). */
    afterGc?: Record<string, Record<string, number>>;
  };
  /** Cache Storage as the page sees it at stop: caches, entries, body bytes (orphans show as entries > cache_size). */
  cacheStorage?: { caches: number; entries: number; bytes: number };
  /** False when SOAK_BROWSER_WORKER=0: the page registered no worker and its <img>s went straight to the server. */
  worker: boolean;
}

export function newBrowserTally(): BrowserTally {
  return {
    tabs: TABS,
    viewports: 0,
    steps: { pan: 0, zoom: 0, jump: 0, revisit: 0 },
    loads: 0,
    errors: 0,
    errorsInFaults: 0,
    errorsOther: 0,
    calmLoads: 0,
    calmErrors: 0,
    stalls: 0,
    unanswered: 0,
    readback: 0,
    readbackOk: 0,
    readbackFailed: 0,
    readbackSources: {},
    wrongBytes: 0,
    video: { reads: 0, ok: 0, wrong: 0, failed: 0 },
    seek: { playable: false, seeks: 0, seeked: 0, timeouts: 0, errors: 0 },
    pageErrors: 0,
    probes: {},
    statsSamples: 0,
    rss: [],
    rssByType: [],
    pageHeap: [],
    swMem: [],
    memDump: {},
    worker: true,
  };
}

interface PageState {
  viewports: number;
  steps: BrowserTally['steps'];
  loads: number;
  errors: number;
  pending: number;
  lastCompletion: number;
  video: BrowserTally['video'];
  seek: BrowserTally['seek'];
  probes: Record<string, number>;
  newErrors: Array<{ url: string; start: number; end: number; abandoned: boolean }>;
}

/** Fault phases as the server process reports them: [start, phase]. */
export type PhaseLog = Array<[number, string]>;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The page, the built worker and page library in a temp dir the soak server serves. */
export async function prepareStatic(root: string): Promise<string> {
  const pub = path.join(root, 'dist/public');
  for (const f of ['tile-sw.js', 'tile-accelerator.js']) {
    if (!existsSync(path.join(pub, f))) {
      throw new Error(
        `soak: dist/public/${f} is missing; run \`npm run build\` first (or SOAK_BROWSER=0 for the Node lanes only)`,
      );
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'tile-soak-static-'));
  await cp(pub, dir, { recursive: true });
  await writeFile(path.join(dir, 'soak.html'), SOAK_PAGE);
  return dir;
}

/**
 * `pss`: proportional set size (shared pages split between the processes sharing them), MB. It moves
 * when other Chromiums on the machine start or stop (they share the binary's pages), so the memory
 * series also records `uss`: the pages private to the process (Private_Clean + Private_Dirty).
 */
function smapsMB(pid: number, what: 'pss' | 'uss'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    const v = what === 'pss' ? kb('Pss') : kb('Private_Clean') + kb('Private_Dirty');
    return Number.isNaN(v) ? undefined : v / 1024;
  } catch {
    return undefined;
  }
}

/**
 * What a Chromium process is, from its command line and threads: `browser` (no --type), `renderer+sw`
 * (a renderer running a ServiceWorker thread), `renderer`, `gpu`, `utility:network`, `utility:storage`
 * (Cache Storage's backend), `utility:other`, `zygote`, or the --type value.
 */
function chromiumKind(pid: number): string {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return 'other';
  }
  const type = /--type=(\S+)/.exec(cmd)?.[1];
  if (!type) return 'browser';
  if (type === 'renderer') {
    try {
      for (const t of readdirSync(`/proc/${pid}/task`))
        if (readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').startsWith('ServiceWorker'))
          return 'renderer+sw';
    } catch {
      // the process ended meanwhile
    }
    return 'renderer';
  }
  if (type === 'gpu-process') return 'gpu';
  if (type === 'utility') {
    const sub = /--utility-sub-type=(\S+)/.exec(cmd)?.[1] ?? '';
    if (/network/i.test(sub)) return 'utility:network';
    if (/storage/i.test(sub)) return 'utility:storage';
    return 'utility:other';
  }
  return type;
}

/**
 * PSS (RSS where unreadable), MB, of the Chromium processes Playwright started as our children
 * (browser, renderers, the service worker's), with all their descendants, summed per chromiumKind
 * (`renderers` counts the renderer processes). Linux only (reads /proc); undefined elsewhere.
 */
export function chromiumMemByType(what: 'pss' | 'uss' = 'pss'): Record<string, number> | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      rss.set(Number(d), (Number(f[21]) * 4096) / 2 ** 20);
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
    } catch {
      // the process ended meanwhile
    }
  }
  const out: Record<string, number> = {};
  for (const [pid, mb] of rss) {
    // Find the ancestor that is our direct child: count the process if that one is a Chromium.
    let top = pid;
    for (let p = parent.get(top); p !== undefined && p !== process.pid && p > 1; p = parent.get(top)) top = p;
    if (parent.get(top) !== process.pid || !/^(chrom|headless)/.test(comm.get(top) ?? '')) continue;
    const kind = chromiumKind(pid);
    out[kind] = (out[kind] ?? 0) + (smapsMB(pid, what) ?? mb);
    if (kind.startsWith('renderer')) out.renderers = (out.renderers ?? 0) + 1;
  }
  return out;
}

/** Trace events of one memory-infra dump, as Tracing.dataCollected delivers them. */
export type DumpEvents = Array<{
  ph: string;
  pid: number;
  args?: { dumps?: { allocators?: Record<string, { attrs?: { size?: { value: string } } }> } };
}>;

/** A memory-infra dump summed per process kind: {kind: {allocator: MB}} (top level and one level down). */
export function dumpByKind(events: DumpEvents): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const e of events) {
    const alloc = e.ph === 'v' ? e.args?.dumps?.allocators : undefined;
    if (!alloc) continue;
    const kind = chromiumKind(e.pid);
    out[kind] ??= {};
    const row = out[kind]!;
    for (const [name, a] of Object.entries(alloc)) {
      const v = a.attrs?.size?.value;
      const depth = name.split('/').length;
      const deep = depth === 3 && name.startsWith('partition_alloc/partitions/');
      if (v === undefined || (depth > 2 && !deep) || /0x|shared_memory\/|global\/|discardable\//.test(name))
        continue;
      row[name] = (row[name] ?? 0) + Number.parseInt(v, 16) / 2 ** 20;
    }
  }
  return out;
}

/** The soak page's query: the worker's options and the datasets it walks. */
export function soakPageQuery(): URLSearchParams {
  return new URLSearchParams({
    cfg: JSON.stringify(WORKER_CFG),
    dataset: IMG_DATASET,
    maxz: String(IMG_MAX_Z),
    video: VIDEO_ID,
    vbytes: String(VIDEO_BYTES),
    clip: CLIP_ID,
  });
}

function faultWindows(phases: PhaseLog, now: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < phases.length; i++) {
    const [t, p] = phases[i]!;
    if (p !== 'resets' && p !== 'hangs') continue;
    const end = phases[i + 1]?.[0] ?? now;
    out.push([t, end + GRACE_MS]);
  }
  return out;
}

export class BrowserLane {
  readonly tally = newBrowserTally();
  private browser?: Browser;
  private context?: BrowserContext;
  /** SOAK_BROWSER_PROFILE=disk: a disk-backed profile (Cache Storage and the HTTP cache on disk). */
  private profileDir?: string;
  private pages: Page[] = [];
  private cdp: CDPSession[] = [];
  private readonly states: PageState[] = [];
  private stallOpen: boolean[] = [];
  private lastAnswer: number[] = [];
  private pendingErrors: PageState['newErrors'] = [];

  private lastDump = Date.now();
  private stopping = false;

  /** `probe`: where the memory series, the periodic memory-infra dumps and the heap snapshots go. */
  constructor(
    private readonly url: string,
    private readonly phases: PhaseLog,
    private readonly probe?: MemoryProbe,
  ) {}

  /** Heap snapshots of the worker target and of the first tab (each after a forced GC). */
  private async snapshots(when: string): Promise<void> {
    if (!this.probe || !this.browser) return;
    if (this.tally.worker) await this.probe.snapshotServiceWorker(this.browser, `sw-${when}`);
    await this.probe.snapshotPage(this.cdp[0]!, `tab-${when}`);
  }

  /** Launches Chromium and opens the tabs, each controlled by the worker (no load yet). */
  async open(chromiumPath: string, args: string[]): Promise<void> {
    // Playwright enables the DevTools Network domain on the service-worker target, and that agent
    // keeps a copy of every response body the worker fetches (up to its buffer cap, ~250 MB in the
    // worker's renderer in the 65-minute soak, RELIABILITY.md): memory no user's browser spends.
    // The lane reads no network events, so it turns that off unless SOAK_PW_SW_NETWORK=1.
    if (process.env.SOAK_PW_SW_NETWORK !== '1') process.env.PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK ??= '1';
    const launch = {
      executablePath: chromiumPath,
      args: [...args, '--js-flags=--expose-gc'],
      headless: true,
    };
    const viewport = { width: 400, height: 300 };
    let context: BrowserContext;
    if (process.env.SOAK_BROWSER_PROFILE === 'disk') {
      // A normal profile on disk instead of Playwright's in-memory context: tells whether
      // Chromium's memory growth is its in-memory storage (A/B in RELIABILITY.md).
      this.profileDir = await mkdtemp(path.join(tmpdir(), 'tile-soak-profile-'));
      context = await chromium.launchPersistentContext(this.profileDir, { ...launch, viewport });
      this.browser = context.browser() ?? undefined;
    } else {
      this.browser = await chromium.launch(launch);
      context = await this.browser.newContext({ viewport });
    }
    this.context = context;
    const q = soakPageQuery();
    // SOAK_BROWSER_WORKER=0: the A/B baseline, same page and walk with no worker at all.
    this.tally.worker = process.env.SOAK_BROWSER_WORKER !== '0';
    if (!this.tally.worker) q.set('sw', '0');
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      page.on('pageerror', () => this.tally.pageErrors++);
      await page.goto(`${this.url}/soak.html?${q}`);
      if (!(await page.evaluate('window.ready')))
        throw new Error('soak: the worker did not take control of the page');
      this.pages.push(page);
      this.cdp.push(await context.newCDPSession(page));
      this.stallOpen.push(false);
      this.lastAnswer.push(Date.now());
    }
  }

  /**
   * One memory-infra dump over the browser's CDP session: what Chromium's allocators (malloc,
   * partition_alloc, blink_gc, v8, web_cache, cc, skia, …) hold, per process kind. Undefined when it fails.
   */
  async memoryDump(): Promise<Record<string, Record<string, number>> | undefined> {
    const cdp = await this.browser?.newBrowserCDPSession().catch(() => undefined);
    if (!cdp) return undefined;
    try {
      const events: Array<{
        ph: string;
        pid: number;
        args?: { dumps?: { allocators?: Record<string, { attrs?: { size?: { value: string } } }> } };
      }> = [];
      cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as typeof events)));
      const complete = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
      await cdp.send('Tracing.start', {
        transferMode: 'ReportEvents',
        traceConfig: {
          includedCategories: ['disabled-by-default-memory-infra'],
          excludedCategories: ['*'],
          memoryDumpConfig: { triggers: [] } as unknown as Record<string, string>,
        },
      });
      await cdp.send('Tracing.requestMemoryDump', { deterministic: true, levelOfDetail: 'detailed' });
      await cdp.send('Tracing.end');
      if (
        !(await withTimeout(
          complete.then(() => true),
          30_000,
        ))
      )
        return undefined;
      return dumpByKind(events);
    } catch {
      return undefined;
    } finally {
      await cdp.detach().catch(() => {});
    }
  }

  /** Starts the random walks (seeded per tab). */
  async walk(): Promise<void> {
    this.tally.memDump.start = await this.memoryDump();
    await this.probe?.dump('start', this.tally.memDump.start);
    await this.snapshots('start');
    this.lastDump = Date.now();
    for (const [i, p] of this.pages.entries()) await p.evaluate(`window.soak.start(${4242 + i})`);
  }

  /** Once a second: page counters, error dating, the watchdog. */
  async poll(): Promise<void> {
    for (const [i, page] of this.pages.entries()) {
      const s = (await withTimeout(
        page.evaluate('window.soak.state()').catch(() => undefined),
        10_000,
      )) as PageState | undefined;
      if (!s) {
        // A tab that does not answer for 30 s is stalled too.
        this.tally.unanswered++;
        const stuck = Date.now() - this.lastAnswer[i]! > STALL_MS;
        if (stuck && !this.stallOpen[i]) this.tally.stalls++;
        this.stallOpen[i] = stuck;
        continue;
      }
      this.lastAnswer[i] = Date.now();
      this.states[i] = s;
      this.pendingErrors.push(...s.newErrors);
      const stuck = s.pending > 0 && Date.now() - s.lastCompletion > STALL_MS;
      if (stuck && !this.stallOpen[i]) this.tally.stalls++;
      this.stallOpen[i] = stuck;
    }
    this.sum();
  }

  /** Worker counters (one worker serves both tabs). */
  async sampleStats(): Promise<SwStats | undefined> {
    const s = (await withTimeout(
      this.pages[0]!.evaluate('window.acc.stats()').catch(() => undefined),
      10_000,
    )) as SwStats | undefined;
    if (s) {
      this.tally.stats = s;
      this.tally.statsSamples++;
    }
    const now = Date.now();
    if (s) this.tally.swMem.push([now, s.memory_bytes, s.cache_size]);
    const by = chromiumMemByType();
    if (by) {
      this.tally.rss.push([
        now,
        Object.entries(by).reduce((a, [k, mb]) => (k === 'renderers' ? a : a + mb), 0),
      ]);
      this.tally.rssByType.push([now, by]);
    }
    // The tabs' own JS heap and DOM: a leak in the page shows here, Chromium's caches do not.
    let heap = 0;
    let nodes = 0;
    for (const c of this.cdp) {
      const h = (await withTimeout(
        c.send('Runtime.getHeapUsage').catch(() => undefined),
        10_000,
      )) as { usedSize: number } | undefined;
      const d = (await withTimeout(
        c.send('Memory.getDOMCounters').catch(() => undefined),
        10_000,
      )) as { nodes: number } | undefined;
      heap += (h?.usedSize ?? 0) / 2 ** 20;
      nodes += d?.nodes ?? 0;
    }
    this.tally.pageHeap.push([now, heap, nodes]);
    const uss = this.probe ? chromiumMemByType('uss') : undefined;
    if (by && uss)
      await this.probe?.sample(uss, {
        pss_total_mb: this.tally.rss.at(-1)?.[1] ?? 0,
        tabs_js_heap_mb: heap,
        tabs_dom_nodes: nodes,
        sw_memory_tier_mb: (s?.memory_bytes ?? 0) / 2 ** 20,
        sw_cache_size: s?.cache_size ?? 0,
        // Whether the worker keeps persisting and prefetching (the leak's signature was both stopping).
        sw_cache_mb: (s?.bytes ?? 0) / 2 ** 20,
        sw_prefetched: s?.prefetched ?? 0,
        sw_evictions: s?.evictions ?? 0,
        sw_write_timeouts: s?.write_timeouts ?? 0,
        sw_requests: s?.total_requests ?? 0,
      });
    if (this.probe && !this.stopping && now - this.lastDump > DUMP_MS) {
      this.lastDump = now;
      await this.probe.dump('walk', await this.memoryDump());
    }
    return s;
  }

  private sum(): void {
    const t = this.tally;
    const live = this.states.filter(Boolean);
    t.viewports = live.reduce((a, s) => a + s.viewports, 0);
    t.loads = live.reduce((a, s) => a + s.loads, 0);
    t.errors = live.reduce((a, s) => a + s.errors, 0);
    for (const k of ['pan', 'zoom', 'jump', 'revisit'] as const)
      t.steps[k] = live.reduce((a, s) => a + s.steps[k], 0);
    for (const k of ['reads', 'ok', 'wrong', 'failed'] as const)
      t.video[k] = live.reduce((a, s) => a + s.video[k], 0);
    for (const k of ['seeks', 'seeked', 'timeouts', 'errors'] as const)
      t.seek[k] = live.reduce((a, s) => a + s.seek[k], 0);
    t.seek.playable = live.some((s) => s.seek.playable);
    t.probes = {};
    for (const s of live) for (const [k, n] of Object.entries(s.probes)) t.probes[k] = (t.probes[k] ?? 0) + n;
  }

  /** Stops the walks; dates every error against the fault phases. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.tally.memDump.end = await this.memoryDump();
    await this.probe?.dump('end', this.tally.memDump.end);
    // Garbage or held? Collect in the worker and the tabs, then dump again.
    // (gc() exists because the lane launches Chromium with --js-flags=--expose-gc.)
    for (const w of this.context?.serviceWorkers() ?? [])
      await withTimeout(
        w.evaluate('gc()').catch(() => undefined),
        10_000,
      );
    for (const c of this.cdp)
      await withTimeout(
        c.send('HeapProfiler.collectGarbage').catch(() => undefined),
        10_000,
      );
    await sleep(2_000);
    this.tally.memDump.afterGc = await this.memoryDump();
    await this.probe?.dump('end-after-gc', this.tally.memDump.afterGc);
    await this.snapshots('end');
    this.tally.cacheStorage = (await withTimeout(
      this.pages[0]!.evaluate(`(async () => {
        let entries = 0, bytes = 0;
        const names = await caches.keys();
        for (const n of names) {
          const c = await caches.open(n);
          for (const req of await c.keys()) {
            entries++;
            bytes += (await (await c.match(req))?.arrayBuffer())?.byteLength ?? 0;
          }
        }
        return { caches: names.length, entries, bytes };
      })()`).catch(() => undefined),
      30_000,
    )) as BrowserTally['cacheStorage'];
    for (const p of this.pages)
      await withTimeout(
        p.evaluate('window.soak.stop()').catch(() => {}),
        10_000,
      );
    // Let the last viewports' tiles (and the probes of failed ones) finish, faults still on.
    for (let i = 0; i < 5; i++) {
      await sleep(1_000);
      await this.poll();
    }
    const windows = faultWindows(this.phases, Date.now());
    for (const e of this.pendingErrors) {
      if (windows.some(([a, b]) => e.start < b && e.end >= a)) this.tally.errorsInFaults++;
      else this.tally.errorsOther++;
    }
    this.pendingErrors = [];
  }

  /**
   * With the faults off: a few viewports (seen and unseen) must load completely,
   * then a sample of loaded tiles is read back through the worker, byte-checked.
   */
  async finish(): Promise<void> {
    const page = this.pages[0]!;
    const views: Array<[number, number, number]> = [
      [2, 0, 0],
      [IMG_MAX_Z, 17, 23],
      [IMG_MAX_Z, 40, 9],
      [IMG_MAX_Z - 1, 3, 28],
    ];
    for (const [z, x, y] of views) {
      const r = (await withTimeout(
        page.evaluate(`window.soak.showAndWait(${z}, ${x}, ${y})`).catch(() => undefined),
        30_000,
      )) as [number, number] | undefined;
      if (!r) {
        this.tally.stalls++;
        continue;
      }
      this.tally.calmLoads += r[0];
      this.tally.calmErrors += r[1];
    }
    const rows = (await withTimeout(
      page.evaluate(`window.soak.readback(${READBACK}, 99)`).catch(() => undefined),
      120_000,
    )) as Array<[string, number, string, string | null]> | undefined;
    // No answer at all (page crashed or hung): the whole sample failed.
    if (!rows) this.tally.readbackFailed += READBACK;
    for (const [url, status, sha, source] of rows ?? []) {
      this.tally.readback++;
      if (status !== 200) {
        this.tally.readbackFailed++;
        continue;
      }
      const key = url.replace('/api/tiles/', '');
      const want = createHash('sha256').update(pngFor(key)).digest('hex');
      if (sha === want) this.tally.readbackOk++;
      else this.tally.wrongBytes++;
      const src = source ?? 'unknown';
      this.tally.readbackSources[src] = (this.tally.readbackSources[src] ?? 0) + 1;
    }
    this.tally.wrongBytes += this.tally.video.wrong;
    // Prefetch started by the check viewports may still run: give it up to 10 s to drain.
    for (let i = 0; i < 20; i++) {
      this.tally.statsEnd = await this.sampleStats();
      if (this.tally.statsEnd?.in_flight === 0) break;
      await sleep(500);
    }
    // Last counters (seeks, probes); errors logged from here on are the check viewports', counted above.
    await this.poll();
  }

  async close(): Promise<void> {
    await this.context?.close().catch(() => {});
    await this.browser?.close().catch(() => {});
    if (this.profileDir) await rm(this.profileDir, { recursive: true, force: true });
  }
}
