// A real nginx running the shipped site file (deploy/nginx-tile-accelerator.conf)
// with TLS and HTTP/2, in front of a companion server: what a deployment puts
// between browsers and the server. Used by the nginx site test and the service-
// worker bench. Only the host-specific lines of the site are replaced (ports,
// upstream, cache path, certificate), each of which must match exactly once,
// so the test fails when the shipped file changes shape instead of silently
// running something else.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/server/freePort.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
export const SHIPPED_SITE = path.join(ROOT, 'deploy/nginx-tile-accelerator.conf');

export interface NginxEdgeOptions {
  /** The companion server, `http://127.0.0.1:PORT`. */
  upstream: string;
  /** Site file to run (default: the shipped one). */
  siteFile?: string;
  /** nginx worker processes (default 1: the bench shares 2 cores with the browser and the server). */
  workers?: number;
  /** Milliseconds to wait for nginx to accept TLS connections (default 10 000). */
  startTimeoutMs?: number;
}

export interface NginxEdge {
  /** `https://127.0.0.1:PORT`: TLS with ALPN h2 and http/1.1 (the site's `listen 443 ssl http2`). */
  url: string;
  /** `https://127.0.0.1:PORT`: the same site over TLS without `http2` (HTTP/1.1 only). */
  h1Url: string;
  /** `http://127.0.0.1:PORT`: the site's plain `listen 80`. */
  httpUrl: string;
  /** The throwaway certificate (PEM), for Node clients' `ca`. */
  certPem: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
  spki: string;
  /** Chromium flags that make it trust the certificate, service workers included. */
  chromiumArgs: string[];
  /** Output of `nginx -t` on the generated configuration (warnings included). */
  configTest: string;
  /** nginx's error log so far. */
  errorLog(): Promise<string>;
  /** Stops nginx (fast shutdown, then SIGKILL after 5 s) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Debian installs nginx in /usr/sbin, which is not on every user's PATH. */
export function nginxBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const p = path.join(dir, 'nginx');
    if (dir && existsSync(p)) return p;
  }
  throw new Error('nginx not found: install it (Debian: apt-get install nginx; `npm test` does)');
}

/** `nginx/1.22.1` (from `nginx -v`). */
export async function nginxVersion(): Promise<string> {
  const { stdout, stderr } = await run(nginxBinary(), ['-v']);
  return `${stdout}${stderr}`.replace(/^nginx version:\s*/, '').trim();
}

/** A self-signed certificate for 127.0.0.1/localhost in `dir`, and its SPKI hash. */
async function makeCertificate(
  dir: string,
): Promise<{ cert: string; key: string; pem: string; spki: string }> {
  const cert = path.join(dir, 'edge.crt');
  const key = path.join(dir, 'edge.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const pem = await readFile(cert, 'utf8');
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return { cert, key, pem, spki: createHash('sha256').update(der).digest('base64') };
}

/** Replaces `from` (which must occur exactly once in the site) with `to`. */
function replaceOnce(site: string, from: string, to: string): string {
  const n = site.split(from).length - 1;
  if (n !== 1) throw new Error(`nginx site: expected "${from}" once, found it ${n} times`);
  return site.replace(from, to);
}

/** The shipped site with this host's ports, upstream, cache dir and certificate. */
export function localizeSite(
  site: string,
  o: {
    upstream: string;
    port: number;
    h1Port: number;
    httpPort: number;
    dir: string;
    cert: string;
    key: string;
  },
): string {
  const up = new URL(o.upstream);
  let s = replaceOnce(site, 'server 127.0.0.1:8080 ', `server ${up.host} `);
  s = replaceOnce(s, 'listen 80;', `listen 127.0.0.1:${o.httpPort};`);
  s = replaceOnce(
    s,
    'listen 443 ssl http2;',
    `listen 127.0.0.1:${o.port} ssl http2;\n    listen 127.0.0.1:${o.h1Port} ssl;`,
  );
  s = replaceOnce(s, '/var/cache/nginx/tiles', path.join(o.dir, 'cache'));
  s = replaceOnce(s, '/etc/ssl/certs/tiles.example.org.pem', o.cert);
  s = replaceOnce(s, '/etc/ssl/private/tiles.example.org.key', o.key);
  return s;
}

function mainConf(dir: string, workers: number): string {
  return `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`;
}

/** `nginx -t` on a configuration; resolves to its output, rejects with it. */
export async function nginxConfigTest(conf: string, prefix: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(nginxBinary(), ['-t', '-p', prefix, '-c', conf]);
    return `${stdout}${stderr}`;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`nginx -t failed: ${err.stderr ?? err.message}`);
  }
}

/** Waits until a TLS handshake on `port` succeeds, nginx exits, or the deadline passes. */
async function waitForTls(port: number, pem: string, proc: ChildProcess, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error('nginx exited during start-up');
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca: pem, servername: 'localhost', ALPNProtocols: ['h2'] });
      s.setTimeout(500, () => s.destroy());
      s.once('secureConnect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nginx did not accept TLS on port ${port} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM'); // nginx: fast shutdown, the master stops its workers
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts nginx with the shipped site on free loopback ports (TLS + h2, a TLS
 * h1-only listener, plain http), a fresh self-signed certificate, its proxy
 * cache and temp files in a temp directory. Retries twice when a port was
 * taken between choosing and binding it.
 */
export async function startNginxEdge(opts: NginxEdgeOptions): Promise<NginxEdge> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nginx-edge-'));
  try {
    // As root, nginx's workers run as `nobody`: they must reach the cache and temp dirs.
    await chmod(dir, 0o755);
    const { cert, key, pem, spki } = await makeCertificate(dir);
    const site = await readFile(opts.siteFile ?? SHIPPED_SITE, 'utf8');
    const conf = path.join(dir, 'nginx.conf');
    await writeFile(conf, mainConf(dir, opts.workers ?? 1));
    for (let attempt = 1; ; attempt++) {
      const [port, h1Port, httpPort] = [await freePort(), await freePort(), await freePort()];
      await writeFile(
        path.join(dir, 'site.conf'),
        localizeSite(site, { upstream: opts.upstream, port, h1Port, httpPort, dir, cert, key }),
      );
      const configTest = await nginxConfigTest(conf, dir);
      const proc = spawn(nginxBinary(), ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      // If this process ends without stop() (a crashed bench), nginx must not outlive it.
      const onExit = () => proc.kill('SIGTERM');
      process.once('exit', onExit);
      try {
        await waitForTls(port, pem, proc, opts.startTimeoutMs ?? 10_000);
      } catch (e) {
        await stopProc(proc);
        process.off('exit', onExit);
        const log = `${stderr}${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`;
        if (attempt < 3 && /Address already in use/.test(log)) continue;
        throw new Error(`${(e as Error).message}\n${log}`);
      }
      let stopped: Promise<void> | undefined;
      return {
        url: `https://127.0.0.1:${port}`,
        h1Url: `https://127.0.0.1:${h1Port}`,
        httpUrl: `http://127.0.0.1:${httpPort}`,
        certPem: pem,
        spki,
        chromiumArgs: [`--ignore-certificate-errors-spki-list=${spki}`],
        configTest,
        errorLog: () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => ''),
        stop: () => {
          stopped ??= (async () => {
            await stopProc(proc);
            process.off('exit', onExit);
            await rm(dir, { recursive: true, force: true });
          })();
          return stopped;
        },
      };
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
