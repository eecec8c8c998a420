// The browser lane's walk with no automation framework attached: the A/B for Chromium's memory.
//   SOAK_MINUTES=20 node --import tsx bench/soak/rawTabs.ts      (after `npm run build`)
// Playwright enables the DevTools Network domain on every page (and on the service worker), and
// those agents keep per-request records and bodies in the renderer. Here Chromium is driven over
// --remote-debugging-pipe with only Target.* and Runtime.evaluate (no Network, no Page, no
// Runtime.enable), so whatever still grows is Chromium's own (or our page's and worker's).
// Same page, worker, seeds and flaky origin as the soak; memory per process kind into
// bench/soak/out/<run>-raw/ (memory.csv, memdumps.jsonl), read with memorySeries.ts. Bounded:
// stops after SOAK_MINUTES and kills what it started.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ESM helper shared with the test configs
import { chromiumArgs, findChromium } from '../../scripts/chromium.mjs';
import {
  chromiumMemByType,
  type DumpEvents,
  dumpByKind,
  prepareStatic,
  soakPageQuery,
  TABS,
} from './browser.js';
import { MemoryProbe } from './memoryProbe.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const minutes = Number(process.env.SOAK_MINUTES ?? 20);
const dumpMs = Number(process.env.SOAK_DUMP_MINUTES ?? 5) * 60_000;

/** CDP over Chromium's debugging pipe (fd 3 in, fd 4 out, NUL-terminated JSON). */
class Pipe {
  private next = 1;
  private readonly waiting = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  private readonly listeners = new Map<string, (params: unknown) => void>();
  private buf = '';

  constructor(private readonly proc: ChildProcess) {
    const out = proc.stdio[4] as NodeJS.ReadableStream;
    out.setEncoding('utf8');
    out.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\0'); i >= 0; i = this.buf.indexOf('\0')) {
        const m = JSON.parse(this.buf.slice(0, i)) as {
          id?: number;
          method?: string;
          params?: unknown;
          result?: unknown;
          error?: unknown;
        };
        this.buf = this.buf.slice(i + 1);
        if (m.id !== undefined) this.waiting.get(m.id)?.(m);
        else if (m.method) this.listeners.get(m.method)?.(m.params);
      }
    });
  }

  on(method: string, fn: (params: unknown) => void): void {
    this.listeners.set(method, fn);
  }

  send<T>(method: string, params: object = {}, sessionId?: string, ms = 60_000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in ${ms} ms`)), ms);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result as T);
      });
      (this.proc.stdio[3] as NodeJS.WritableStream).write(
        `${JSON.stringify({ id, method, params, sessionId })}\0`,
      );
    });
  }
}

async function memoryDump(cdp: Pipe): Promise<Record<string, Record<string, number>>> {
  const events: DumpEvents = [];
  cdp.on('Tracing.dataCollected', (p) => events.push(...(p as { value: DumpEvents }).value));
  const complete = new Promise<void>((r) => cdp.on('Tracing.tracingComplete', () => r()));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: ['disabled-by-default-memory-infra'],
      excludedCategories: ['*'],
      memoryDumpConfig: { triggers: [] },
    },
  });
  await cdp.send('Tracing.requestMemoryDump', { deterministic: true, levelOfDetail: 'detailed' });
  await cdp.send('Tracing.end');
  await Promise.race([complete, sleep(30_000)]);
  return dumpByKind(events);
}

const chromiumPath = (await findChromium()) as string | undefined;
if (!chromiumPath) throw new Error('rawTabs: no Chromium found (set CHROMIUM_PATH)');
const staticDir = await prepareStatic(root);
const profile = await mkdtemp(path.join(tmpdir(), 'tile-soak-raw-profile-'));
const server = fork(path.join(here, 'server.ts'), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  env: { ...process.env, SOAK_STATIC: staticDir },
});
const url = await new Promise<string>((resolve, reject) => {
  server.once('message', (m: { url: string }) => resolve(m.url));
  server.once('exit', (c) => reject(new Error(`soak server exited ${c}`)));
});
const browser = spawn(
  chromiumPath,
  [
    ...(chromiumArgs as string[]),
    '--headless=new',
    '--remote-debugging-pipe',
    `--user-data-dir=${profile}`,
    '--window-size=400,300',
    'about:blank',
  ],
  { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
);
const cdp = new Pipe(browser);
const probe = await MemoryProbe.create(root, 'browser-worker-raw');
console.error(`rawTabs: ${minutes} min, server ${url}, evidence in ${path.relative(root, probe.dir)}`);
try {
  const sessions: string[] = [];
  for (let i = 0; i < TABS; i++) {
    const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
      url: `${url}/soak.html?${soakPageQuery()}`,
    });
    const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    sessions.push(sessionId);
    const eval1 = (expression: string) =>
      cdp.send<{ result: { value: unknown } }>(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      );
    for (let t = 0; ; t++) {
      const r = await eval1('window.ready').catch(() => undefined);
      if (r?.result.value === true) break;
      if (t > 60) throw new Error('rawTabs: the worker did not take control of the page in 30 s');
      await sleep(500);
    }
    await eval1(`window.soak.start(${4242 + i})`);
  }
  await probe.dump('start', await memoryDump(cdp));
  const until = Date.now() + minutes * 60_000;
  let lastDump = Date.now();
  while (Date.now() < until) {
    await sleep(5_000);
    const uss = chromiumMemByType('uss');
    const pss = chromiumMemByType('pss');
    let viewports = 0;
    for (const s of sessions) {
      const r = await cdp
        .send<{ result: { value: number } }>(
          'Runtime.evaluate',
          { expression: 'window.soak.state().viewports', returnByValue: true },
          s,
        )
        .catch(() => undefined);
      viewports += r?.result.value ?? 0;
    }
    const pssTotal = Object.entries(pss ?? {}).reduce((a, [k, mb]) => (k === 'renderers' ? a : a + mb), 0);
    if (uss) await probe.sample(uss, { pss_total_mb: pssTotal, viewports });
    if (Date.now() - lastDump > dumpMs) {
      lastDump = Date.now();
      await probe.dump('walk', await memoryDump(cdp));
    }
  }
  await probe.dump('end', await memoryDump(cdp));
} finally {
  browser.kill();
  server.send({ type: 'stop' });
  await new Promise((r) => server.once('exit', r));
  await rm(staticDir, { recursive: true, force: true });
  await rm(profile, { recursive: true, force: true });
}
