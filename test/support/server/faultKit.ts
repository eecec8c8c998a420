import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Stack, type StackOptions, startStack } from '../../../e2e/harness/startStack.js';
import type { ServerConfig } from '../../../server/config.js';

/** Short deadlines so every fault resolves within about two seconds. */
export const FAULT_CONFIG: Partial<ServerConfig> = {
  originTimeoutMs: 2_000,
  // Generous enough that a healthy loopback attempt never times out on a loaded 2-core machine.
  originAttemptTimeoutMs: 800,
  originRetries: 2,
  cacheTtlMs: 60_000,
  staleIfErrorMs: 0,
  negativeTtlMs: 0,
};

/** Distinct random bytes per tile, so a wrong or truncated body can never compare equal. */
export function tileFiles(dataset: string, n: number, size = 4096): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < n; i++) files[`${dataset}/3/${i % 8}/${Math.floor(i / 8)}.jpg`] = randomBytes(size);
  return files;
}

export function tilePathOf(key: string): string {
  return `/api/tiles/${key}`;
}

export async function startFaultStack(opts: StackOptions = {}): Promise<Stack> {
  return startStack({ ...opts, config: { ...FAULT_CONFIG, ...opts.config } });
}

export interface Got {
  status: number;
  bytes: Buffer;
  headers: Headers;
  ms: number;
  code: string | undefined;
}

export async function get(url: string, init: RequestInit = {}): Promise<Got> {
  const t0 = performance.now();
  const r = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(10_000) });
  const bytes = Buffer.from(await r.arrayBuffer());
  let code: string | undefined;
  if (r.headers.get('content-type')?.startsWith('application/json') && r.status >= 400) {
    code = (JSON.parse(bytes.toString()) as { error?: { code?: string } }).error?.code;
  }
  return { status: r.status, bytes, headers: r.headers, ms: performance.now() - t0, code };
}

/** Waits (bounded) until the engine has no attempt running or queued. */
export async function engineIdle(stack: Stack, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = stack.server.context.engine.stats();
    if (s.inFlight === 0 && s.queued === 0 && !s.streams && !s.streamsQueued) return;
    if (Date.now() > end) throw new Error(`engine not idle after ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await sleep(20);
  }
}

/** The counters every fault case must leave consistent. */
export function counters(stack: Stack) {
  const t = stack.server.context.tiles;
  const e = stack.server.context.engine.stats();
  return {
    hits: t.hits,
    misses: t.misses,
    lookups: t.hits + t.misses,
    engine: e,
    origin: stack.origin.count(),
  };
}
