import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';

/** A throw-away `redis-server` for tests and benches (loopback, no persistence, own temp dir). */
export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** True while the process runs and is not stopped. */
  readonly running: boolean;
  /** SIGKILL (a crash: no goodbye to clients). Resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers (a hung Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts again on the same port (after kill); empty, as there is no persistence. */
  restart(): Promise<void>;
  /** Kills the process and removes the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 5_000;

/** Spawns redis-server on `port` and waits for "Ready to accept connections" (bounded). */
function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  // biome-ignore format: one flag and its value per line pair
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    // Only keys with a TTL may be evicted: the per-dataset generation keys must survive (docs/deployment.md).
    '--maxmemory-policy', 'volatile-lru',
    '--loglevel', 'notice',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`redis-server not ready in ${READY_TIMEOUT_MS} ms: ${out}`)),
      READY_TIMEOUT_MS,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.once('error', (e) =>
      fail(new Error(`cannot start redis-server (${e.message}); run scripts/ensure-tools.mjs`, { cause: e })),
    );
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private redis-server on a free 127.0.0.1 port. Call stop() in afterEach. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ta-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port, dir);
      break;
    } catch (e) {
      if (attempt >= 2) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  let stopped = false;
  const killNow = async () => {
    const c = child;
    child = undefined;
    if (!c) return;
    c.kill('SIGCONT'); // a paused process must be able to die
    c.kill('SIGKILL');
    await waitExit(c);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined && !stopped;
    },
    kill: killNow,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (stopped) throw new Error('redis server was stopped');
      await killNow();
      child = await spawnRedis(port, dir);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killNow();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
