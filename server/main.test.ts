import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const url = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed; stderr: ${err}`)), 40_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`exited early: ${err}`)));
  });
  url.catch(() => {});
  return { child, url, output: () => ({ out, err }) };
}

async function tileDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'main-tiles-'));
  dirs.push(dir);
  await mkdir(path.join(dir, 'sample/0/0'), { recursive: true });
  await writeFile(path.join(dir, 'sample/0/0/0.png'), 'not really a png');
  return dir;
}

// Child processes boot through tsx: slow on a loaded machine, hence the long per-test timeouts.
describe('server/main.ts', { timeout: 60_000 }, () => {
  it('prints one line naming the bad variable and exits 1', async () => {
    const p = run({ PORT: 'eighty' });
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(1);
    const { err } = p.output();
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('PORT');
  });

  it('serves TILES_DIR, prints its URL and exits 0 on SIGTERM', async () => {
    const p = run({ PORT: '0', TILES_DIR: await tileDir() });
    const url = await p.url;
    const r = await fetch(`${url}/api/tiles/sample/0/0/0.jpg`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(await r.text()).toBe('not really a png');
    p.child.kill('SIGTERM');
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(0);
  });

  it('with WORKERS=2, a worker that cannot listen stops the server (exit 1) instead of being re-forked forever', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const p = run({ PORT: String(port), HOST: '127.0.0.1', TILES_DIR: await tileDir(), WORKERS: '2' });
      const [code] = await once(p.child, 'exit');
      expect(code).toBe(1);
      expect(p.output().err).toContain('start-up failed');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('runs WORKERS=2 processes on one port', async () => {
    const p = run({ PORT: '0', TILES_DIR: await tileDir(), WORKERS: '2' });
    const url = await p.url;
    expect(p.output().out).toContain('2 workers');
    const rs = await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/api/tiles/sample/0/0/0.png`)));
    for (const r of rs) expect(r.status).toBe(200);
    p.child.kill('SIGTERM');
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(0);
  });
});
