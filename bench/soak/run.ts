// `npm run soak` (SOAK_MINUTES, default 30): mixed load against a flaky mocked origin.
// The server runs in its own process so its heap, RSS and event loop are measured alone.
import { type ChildProcess, fork } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
// @ts-expect-error plain ESM helper shared with the test configs
import { chromiumArgs, findChromium } from '../../scripts/chromium.mjs';
import { BrowserLane, type PhaseLog, prepareStatic } from './browser.js';
import { loadWorker, newTally } from './load.js';
import { MemoryProbe } from './memoryProbe.js';
import { renderSoak, type SoakResult } from './report.js';
import type { SoakSample } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const minutes = Number(process.env.SOAK_MINUTES ?? 30);
// SOAK_NODE=0: the browser lane alone (no Node clients), for Chromium's memory without the server under load.
const nodeLane = process.env.SOAK_NODE !== '0';
const workers = nodeLane ? Number(process.env.SOAK_CONCURRENCY ?? 16) : 0;
const sampleMs = minutes <= 2 ? 5_000 : 30_000;
const STALL_MS = 30_000;
const OWNER = 'soak-owner-token';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not answer ${type} in 10 s`)), 10_000);
    const on = (m: { type: string; sample?: SoakSample }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve((m.sample ?? m) as T);
    };
    child.on('message', on);
    child.send({ type });
  });
}

// The browser lane (on when a Chromium is found; SOAK_BROWSER=0 turns it off, =1 requires it).
const chromiumPath: string | undefined = process.env.SOAK_BROWSER === '0' ? undefined : await findChromium();
if (process.env.SOAK_BROWSER === '1' && !chromiumPath) {
  throw new Error('soak: SOAK_BROWSER=1 but no Chromium found (set CHROMIUM_PATH)');
}
const staticDir = chromiumPath ? await prepareStatic(root) : undefined;

const child = fork(path.join(here, 'server.ts'), [], {
  execArgv: ['--expose-gc', '--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  env: { ...process.env, ...(staticDir ? { SOAK_STATIC: staticDir } : {}) },
});
const url = await new Promise<string>((resolve, reject) => {
  child.once('message', (m: { url: string }) => resolve(m.url));
  child.once('exit', (c) => reject(new Error(`soak server exited ${c}`)));
});
const phases: PhaseLog = [[Date.now(), 'flaky-5xx']];
child.on('message', (m: { type: string; phase?: string; t?: number }) => {
  if (m.type === 'phase') phases.push([m.t!, m.phase!]);
});
console.error(
  `soak: ${minutes} min, ${workers} client workers, browser lane ${chromiumPath ? 'on' : 'off'}, server ${url}`,
);
if (!nodeLane && !chromiumPath) throw new Error('soak: SOAK_NODE=0 needs the browser lane (a Chromium)');
const probeLabel = `${nodeLane ? 'mixed' : 'browser'}-${process.env.SOAK_BROWSER_WORKER === '0' ? 'noworker' : 'worker'}${process.env.SOAK_PW_SW_NETWORK === '1' ? '-swnetwork' : ''}`;
const probe = chromiumPath ? await MemoryProbe.create(root, probeLabel) : undefined;
if (probe) console.error(`soak: memory series and heap snapshots in ${path.relative(root, probe.dir)}`);
const lane = chromiumPath ? new BrowserLane(url, phases, probe) : undefined;
try {
  await lane?.open(chromiumPath!, chromiumArgs as string[]);
} catch (e) {
  await lane?.close();
  child.kill();
  if (staticDir) await rm(staticDir, { recursive: true, force: true });
  throw e;
}

const agent = new Agent({ connections: workers * 2, keepAliveTimeout: 10_000 });
const tally = newTally();
// Idle baseline: 5 s with no load shows what the shared machine alone does to the event loop.
await ask<SoakSample>(child, 'sample');
await sleep(5_000);
const idle = await ask<SoakSample>(child, 'sample');
const samples: SoakSample[] = [idle];
const t0 = Date.now();
const until = t0 + minutes * 60_000;
const load = nodeLane
  ? Promise.all(
      Array.from({ length: workers }, (_, i) => loadWorker(url, agent, until, tally, rng(1000 + i), OWNER)),
    )
  : sleep(until - Date.now());
await lane?.walk();
// The browser lane is polled once a second (watchdog, counters), its worker's stats every 5 s.
let polling = false;
let polls = 0;
const browserPoll = setInterval(() => {
  if (!lane || polling) return;
  polling = true;
  const stats = polls++ % 5 === 0;
  void lane
    .poll()
    .then(() => (stats ? lane.sampleStats() : undefined))
    .finally(() => {
      polling = false;
    });
}, 1_000);
let done = false;
void load.finally(() => {
  done = true;
});
// Watchdog: pending work with no completion for 30 s is a stall.
let stallOpen = false;
const watchdog = setInterval(() => {
  const stuck = tally.pending > 0 && Date.now() - tally.lastCompletion > STALL_MS;
  if (stuck && !stallOpen) tally.stalls++;
  stallOpen = stuck;
}, 1_000);
while (!done) {
  await Promise.race([sleep(sampleMs), load]);
  if (done) break;
  const s = await ask<SoakSample>(child, 'sample');
  samples.push(s);
  console.error(
    `soak ${((s.t - t0) / 60_000).toFixed(1)} min: ${tally.requests} req, heap ${s.heapUsedMB.toFixed(1)} MB, rss ${s.rssMB.toFixed(0)} MB, eld p99 ${s.eldP99Ms.toFixed(1)} ms, phase ${s.phase}, wrong ${tally.wrongBytes}, misses ${tally.deadlineMisses}${
      lane
        ? `; browser ${lane.tally.viewports} viewports, ${lane.tally.loads} loads, ${lane.tally.errors} errors, prefetched ${lane.tally.stats?.prefetched ?? '?'}, worker single fetches ${lane.tally.stats?.network_fetches ?? '?'} / batch failures ${lane.tally.stats?.batch_failures ?? '?'} / fallbacks ${lane.tally.stats?.fallbacks ?? '?'}, stalls ${lane.tally.stalls}`
        : ''
    }`,
  );
}
await load;
clearInterval(watchdog);
clearInterval(browserPoll);
while (polling) await sleep(50);
await lane?.stop();

// Quiet period: faults off, every in-flight origin request must finish or be cut by its deadline.
await ask(child, 'calm');
// The browser's last checks run with the faults off (every tile must load, bytes exact).
await lane?.finish();
await sleep(4_000);
const quiet = await ask<SoakSample>(child, 'sample');
await lane?.close();
await agent.close();
await sleep(1_000);
const afterClose = await ask<SoakSample>(child, 'sample');
child.send({ type: 'stop' });
await new Promise((r) => child.once('exit', r));

const result: SoakResult = {
  minutes,
  workers,
  env: Object.entries(process.env)
    .filter(([k]) =>
      /^SOAK_(MINUTES|NODE|BROWSER|BROWSER_WORKER|BROWSER_PROFILE|CONCURRENCY|PW_SW_NETWORK)$/.test(k),
    )
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(' '),
  wallMs: Date.now() - t0,
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (the machine is shared)`,
  tally,
  samples,
  idle,
  quiet,
  afterClose,
  browser: lane?.tally,
};
if (staticDir) await rm(staticDir, { recursive: true, force: true });
const md = renderSoak(result);
// SOAK_REPORT: write the section to another file (e.g. to merge several runs by hand).
const file = process.env.SOAK_REPORT
  ? path.resolve(process.env.SOAK_REPORT)
  : path.join(root, 'RELIABILITY.md');
const text = await readFile(file, 'utf8').catch(
  () => '# Reliability\n\n<!-- soak:begin -->\n<!-- soak:end -->\n',
);
const [head, rest] = text.split('<!-- soak:begin -->');
const tail = rest?.split('<!-- soak:end -->')[1] ?? '\n';
await writeFile(file, `${head}<!-- soak:begin -->\n${md}\n<!-- soak:end -->${tail}`);
console.log(md);
const b = lane?.tally;
const browserFailures = b ? b.wrongBytes + b.stalls + b.calmErrors + b.readbackFailed + b.errorsOther : 0;
process.exitCode = tally.wrongBytes + tally.deadlineMisses + tally.stalls + browserFailures > 0 ? 1 : 0;
