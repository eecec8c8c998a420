// The soak's server process: mocked flaky origin + companion server, sampled on request over IPC.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startStack } from '../../e2e/harness/startStack.js';
import {
  allImgKeys,
  allTileKeys,
  bytesFor,
  CLIP_ID,
  DATASET,
  IMG_DATASET,
  keyHash,
  pngFor,
  VIDEO_ID,
  videoBytes,
} from './dataset.js';

export interface SoakSample {
  t: number;
  heapUsedMB: number;
  rssMB: number;
  eldP99Ms: number;
  eldMaxMs: number;
  engine: {
    inFlight: number;
    queued: number;
    originRequests: number;
    retries: number;
    failures: number;
    coalesced: number;
    breaker: string;
  };
  hits: number;
  misses: number;
  cacheBytes: number;
  evictions: number;
  originSockets: number;
  serverSockets: number;
  phase: string;
}

export const OWNER = 'soak-owner-token';

const files: Record<string, Uint8Array> = {};
for (const k of allTileKeys()) files[`${DATASET}/${k}`] = bytesFor(`${DATASET}/${k}`);
files[`videos/${VIDEO_ID}`] = videoBytes();
// The browser lane's PNG pyramid (same origin, same faults, same server cache).
for (const k of allImgKeys()) files[`${IMG_DATASET}/${k}`] = pngFor(`${IMG_DATASET}/${k}`);
files[`videos/${CLIP_ID}`] = readFileSync(new URL('../../fixtures/video/sample.mp4', import.meta.url));

const stack = await startStack({
  origin: { files, latencyMs: 8, errorRate: 0.03, errorStatus: 503, seed: 7 },
  config: {
    cacheMaxBytes: 2 * 1024 * 1024,
    cacheMaxEntryBytes: 64 * 1024,
    videoCacheMaxBytes: 1024 * 1024,
    videoChunkBytes: 64 * 1024,
    originTimeoutMs: 3_000,
    originAttemptTimeoutMs: 1_000,
    originRetries: 2,
    originConnections: 16,
    ownerToken: OWNER,
    staleIfErrorMs: 0,
    negativeTtlMs: 0,
    // One load generator stands in for many viewers: no per-client miss budget.
    missBudgetPerSec: 0,
    // The browser lane's page and the built worker (bench/soak/browser.ts prepares the directory).
    ...(process.env.SOAK_STATIC ? { staticDir: process.env.SOAK_STATIC } : {}),
  },
});

// Fault phases on a 20 s cycle: 14 s of background 5xx only, 3 s of resets on a
// quarter of the keys, 3 s of hangs on an eighth (each answered by the deadline).
const PHASES: Array<[string, number]> = [
  ['flaky-5xx', 14_000],
  ['resets', 3_000],
  ['hangs', 3_000],
];
let phase = 'flaky-5xx';
let phaseIdx = 0;
function nextPhase(): void {
  phaseIdx = (phaseIdx + 1) % PHASES.length;
  phase = PHASES[phaseIdx]![0];
  stack.origin.set({
    resetMidBody: phase === 'resets' ? (k) => keyHash(k) % 4 === 0 : false,
    hang: phase === 'hangs' ? (k) => keyHash(k) % 8 === 0 : false,
  });
  phaseTimer = setTimeout(nextPhase, PHASES[phaseIdx]![1]);
  // The browser lane dates its <img> errors against the fault phases.
  process.send!({ type: 'phase', phase, t: Date.now() });
}
let phaseTimer = setTimeout(nextPhase, PHASES[0]![1]);

const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
const gc = (globalThis as { gc?: () => void }).gc;

async function sample(): Promise<SoakSample> {
  // The mock origin logs every request for tests; the soak must not count that as a server leak.
  stack.origin.requests.length = 0;
  gc?.();
  const m = process.memoryUsage();
  const e = stack.server.context.engine.stats();
  const t = stack.server.context.tiles;
  const serverSockets = await new Promise<number>((r) => stack.server.server.getConnections((_e, n) => r(n)));
  const s: SoakSample = {
    t: Date.now(),
    heapUsedMB: m.heapUsed / 2 ** 20,
    rssMB: m.rss / 2 ** 20,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
    engine: {
      inFlight: e.inFlight,
      queued: e.queued,
      originRequests: e.originRequests,
      retries: e.retries,
      failures: e.failures,
      coalesced: e.coalesced,
      breaker: e.breaker,
    },
    hits: t.hits,
    misses: t.misses,
    cacheBytes: t.cache.bytes,
    evictions: t.cache.evictions,
    originSockets: stack.origin.connections(),
    serverSockets,
    phase,
  };
  eld.reset();
  return s;
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'sample') void sample().then((s) => process.send!({ type: 'sample', sample: s }));
  if (msg.type === 'calm') {
    // End of load: no more faults, so the leak check sees a quiet system.
    clearTimeout(phaseTimer);
    stack.origin.set({ resetMidBody: false, hang: false, errorRate: 0 });
    phase = 'calm';
    process.send!({ type: 'phase', phase, t: Date.now() });
    process.send!({ type: 'calm' });
  }
  if (msg.type === 'stop') void stack.close().then(() => process.exit(0));
});
process.send!({ type: 'ready', url: stack.serverUrl });
