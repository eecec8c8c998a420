// Load-generation helpers for the server benchmarks: wrk (Debian package) as
// the client, nginx (Debian package) as the "limit on this machine" baseline.
// Everything listens on 127.0.0.1 and is stopped by the caller.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface WrkResult {
  rps: number;
  latencyP99Ms: number;
  errors: number;
  /** CPU time (user + system, all threads) of the measured server per request, µs; NaN without a pid. */
  cpuUsPerRequest: number;
}

/** utime + stime of a process in clock ticks (Linux /proc; 100 per second here). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const TICKS_PER_SEC = 100;

/** Children of `pid` (nginx's worker under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Runs wrk against one URL; `-t1` keeps the load generator to one core. */
export async function wrk(
  url: string,
  o: { connections: number; seconds: number; threads?: number; pid?: number },
): Promise<WrkResult> {
  // On a shared machine req/s moves with everyone else's load; CPU per request much less.
  const cpu0 = o.pid === undefined ? Number.NaN : cpuTicks(o.pid);
  const { stdout } = await execFileP('wrk', [
    `-t${o.threads ?? 1}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--latency',
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const scale = p99?.[2] === 'us' ? 1e-3 : p99?.[2] === 's' ? 1e3 : 1;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  if (!Number.isFinite(rps)) throw new Error(`wrk printed no rate:\n${stdout}`);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
  const cpuUsPerRequest =
    o.pid === undefined ? Number.NaN : ((cpuTicks(o.pid) - cpu0) / TICKS_PER_SEC / requests) * 1e6;
  return { rps, latencyP99Ms: p99 ? Number(p99[1]) * scale : Number.NaN, errors, cpuUsPerRequest };
}

export interface Nginx {
  url: string;
  /** The (single) worker process, which does the serving. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** nginx with one worker serving `rootDir` from disk, as fast as it is configured out of the box plus sendfile/keepalive. */
export async function startNginx(rootDir: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  // nginx workers drop to `nobody`; mkdtemp makes 0700 directories.
  chmodSync(rootDir, 0o755);
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/jpeg jpg; image/png png; }
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${rootDir};
    etag on;
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc: ChildProcess = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, 5000);
  return {
    url,
    pid: proc.pid === undefined ? undefined : childPids(proc.pid)[0],
    stop: async () => {
      proc.kill('SIGQUIT');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(500) });
      await r.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > end) throw new Error(`${url} did not come up: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
