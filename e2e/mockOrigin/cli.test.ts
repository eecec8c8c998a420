import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';

let child: ReturnType<typeof spawn> | undefined;
let dir: string | undefined;
afterEach(async () => {
  child?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('serves a directory from the command line and prints its URL', async () => {
  dir = await mkdtemp(join(tmpdir(), 'mock-cli-'));
  await writeFile(join(dir, 't.png'), 'png');
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'e2e/mockOrigin/cli.ts', '--root', dir, '--port', '0', '--latency', '5'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    });
    child!.once('exit', (code) => reject(new Error(`exited ${code}`)));
    setTimeout(() => reject(new Error('no URL printed')), 15_000);
  });
  const res = await fetch(`${url}/t.png`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  expect(await res.text()).toBe('png');
  const exited = new Promise<number | null>((r) => child!.once('exit', r));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  child = undefined;
});
