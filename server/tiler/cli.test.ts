import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../../e2e/harness/startStack.js';
import { S3StandIn } from '../../test/support/server/s3StandIn.js';
import { makeTestImage } from '../../test/support/server/testImage.js';
import { main } from './cli.js';

const BIN = fileURLToPath(new URL('../../bin/tile-accelerator.mjs', import.meta.url));
let tmp: string;
let image: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real executable; `onStderr` may act on the stream (e.g. send SIGINT on first progress). */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { TILES_DIR: _t, AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...clean } = process.env;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      onStderr?.(stderr, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tiler-cli-'));
  image = path.join(tmp, 'in.png');
  await makeTestImage(image, 300, 200);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('tile-accelerator tile', () => {
  it('builds the pyramid, prints progress on stderr and the dataset dir on stdout', async () => {
    const r = await cli([
      'tile',
      'in.png',
      '--dataset',
      'cli1',
      '--out',
      'out',
      '--format',
      'webp',
      '--tile',
      '128',
    ]);
    expect(r.code).toBe(0);
    const dir = path.join(tmp, 'out', 'cli1');
    expect(r.stdout.trim()).toBe(dir);
    // 300 px at 128-px tiles: z2 is 512x341, 4x3 tiles; then 2x2 and 1.
    expect(r.stderr).toMatch(/level 2: 12\/12 tiles/);
    expect(r.stderr).toMatch(/tiled in\.png into .*: 17 tiles, levels 0-2/);
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ dataset: 'cli1', format: 'webp', tileSize: 128, maxZoom: 2, width: 512 });
    expect(await readdir(path.join(dir, '2'))).toHaveLength(4);
  });

  it('writes under $TILES_DIR by default and prints JSON with --json', async () => {
    const r = await cli(['tile', image, '-d', 'cli2', '--max-zoom', '1', '--json', '--quiet'], {
      TILES_DIR: 'tiles',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/level \d+:/);
    const out = JSON.parse(r.stdout);
    expect(out.dir).toBe(path.join(tmp, 'tiles', 'cli2'));
    expect(out.manifest.tileCount).toBe(5);
  });

  it.each([
    [[], /missing command/],
    [['tile', 'in.png', '-d', 'x', '--format', 'gif'], /--format must be one of jpg, png, webp/],
  ])('exits 2 with a clear message for %j (the real executable)', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Usage:/);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['tile', 'in.png'], /--dataset <id> is required/],
    [['tile', 'in.png', '-d', '../etc'], /--dataset "..\/etc" is not/],
    [['tile', '-d', 'x'], /exactly one <image>/],
    [['tile', 'nope.png', '-d', 'x'], /no such file: .*nope\.png/],
    [['tile', 'in.png', '-d', 'x', '--tile', '12abc'], /--tile must be an integer/],
    [['tile', 'in.png', '-d', 'x', '--max-zoom', '40'], /--max-zoom must be an integer in 0..16/],
    [['tile', 'in.png', '-d', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['tile', 'in.png', '-d', 'x', '--layout', 'zip'], /--layout must be tree or dzi/],
    [['tile', 'in.png', '-d', 'x', '--layout', 'dzi', '-f', 'pmtiles'], /not with --layout dzi/],
    [['tile', 'in.png', '-d', 'x', '--layout', 'dzi', '--max-zoom', '3'], /--max-zoom does not apply/],
    [['tile', 'in.png', '-d', 'x', '--overlap', '1'], /--overlap needs --layout dzi/],
    [
      ['tile', 'in.png', '-d', 'x', '--layout', 'dzi', '--tile', '64', '--overlap', '40'],
      /--overlap must be an integer in 0..32/,
    ],
    [['serve', 'extra'], /serve takes no arguments/],
    [['serve', '--port', '99999'], /--port must be an integer in 0..65535/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    let out = '';
    let err = '';
    const code = await main(args, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      cwd: tmp,
      env: {},
      signals: new EventEmitter(),
    });
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/Usage:/);
    expect(out).toBe('');
  });

  it('exits 2 naming the missing variable when --upload has no bucket settings', async () => {
    const r = await cli(['tile', 'in.png', '-d', 'x', '--upload'], { AWS_ACCESS_KEY_ID: 'k' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AWS_SECRET_ACCESS_KEY is required/);
    expect(await readdir(tmp)).not.toContain('data');
  });

  it('exits 1 on an unreadable image and leaves nothing behind', async () => {
    await writeFile(path.join(tmp, 'bad.jpg'), 'not a jpeg');
    const r = await cli(['tile', 'bad.jpg', '-d', 'bad', '--out', 'badout']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[BAD_IMAGE\]: cannot read image/);
    expect(existsSync(path.join(tmp, 'badout', 'bad'))).toBe(false);
  });

  it('stops on Ctrl-C with exit 130 and no half dataset', async () => {
    const big = path.join(tmp, 'big.png');
    await makeTestImage(big, 1000, 600);
    let sent = false;
    const r = await cli(['tile', big, '-d', 'intr', '--out', 'intr', '--max-zoom', '5'], {}, (text, kill) => {
      if (!sent && /resizing level 5/.test(text)) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(await readdir(path.join(tmp, 'intr'))).toEqual([]);
  });
});

describe('tile-accelerator --upload and upload', () => {
  let s3: S3StandIn;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    s3 = new S3StandIn('bkt', 'AKCLI', 'sekret');
    env = {
      AWS_ACCESS_KEY_ID: 'AKCLI',
      AWS_SECRET_ACCESS_KEY: 'sekret',
      AWS_BUCKET_NAME: 'bkt',
      S3_ENDPOINT_URL: await s3.start(),
      TILE_KEY_TEMPLATE: 'tiles/{dataset}/{z}/{x}/{y}.{ext}',
    };
  });
  afterAll(async () => {
    await s3.close();
  });

  it('tiles then uploads with the configured key template, and a failed upload resumes with `upload`', async () => {
    let puts = 0;
    s3.fault = (r) => (r.method === 'PUT' && ++puts > 2 ? 403 : undefined);
    const first = await cli(
      ['tile', 'in.png', '-d', 'up', '--max-zoom', '1', '--upload', '--concurrency', '1'],
      env,
    );
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/error \[ORIGIN_ERROR\]: PUT tiles\/up\/.* answered 403/);
    expect(first.stderr).toMatch(/rerun to resume/);
    expect(s3.objects.size).toBe(2);

    s3.fault = () => undefined;
    const putsBefore = s3.count('PUT');
    const second = await cli(['upload', '-d', 'up'], env);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/uploaded 4 objects .* 2 already there, to bkt/);
    expect(s3.count('PUT') - putsBefore).toBe(4);
    expect([...s3.objects.keys()].sort()).toEqual([
      'tiles/up/0/0/0.jpg',
      'tiles/up/1/0/0.jpg',
      'tiles/up/1/0/1.jpg',
      'tiles/up/1/1/0.jpg',
      'tiles/up/1/1/1.jpg',
      'tiles/up/manifest.json',
    ]);
    expect(s3.rejectedSignatures).toEqual([]);
  });

  /** The bucket as an origin, read by a real server with the same template: the keys written are the keys read. */
  async function serveBucket() {
    const files = Object.fromEntries([...s3.objects].map(([k, o]) => [k, o.body]));
    return startStack({
      origin: { files },
      config: { datasetDiscovery: 'auto', tileKeyTemplate: env.TILE_KEY_TEMPLATE! },
    });
  }

  it('--layout dzi --upload sends _files/ then the descriptor beside {dataset}; the server reads them', async () => {
    s3.objects.clear();
    const r = await cli(
      ['tile', 'in.png', '-d', 'deep', '--out', 'dz', '--layout', 'dzi', '--upload', '--quiet'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(tmp, 'dz', 'deep.dzi'));
    // 300x200 at 254 px: levels 0-9, one tile each below level 9, 2 at 9.
    expect(r.stderr).toMatch(/11 tiles, levels 0-9, 300x200 px/);
    expect(r.stderr).toMatch(/uploaded 12 objects .* 0 already there, to bkt/);
    const keys = [...s3.objects.keys()];
    expect(keys.filter((k) => k.startsWith('tiles/deep_files/'))).toHaveLength(11);
    expect(keys).toContain('tiles/deep.dzi');
    const puts = s3.requests.filter((q) => q.method === 'PUT');
    expect(puts.at(-1)?.key).toBe('tiles/deep.dzi');
    expect(s3.objects.get('tiles/deep.dzi')?.contentType).toBe('application/xml');
    const stack = await serveBucket();
    try {
      const d = await fetch(`${stack.serverUrl}/api/tiles/deep.dzi`);
      expect(d.status).toBe(200);
      const t = await fetch(`${stack.serverUrl}/api/tiles/deep/9/1/0.jpg`);
      expect(
        Buffer.from(await t.arrayBuffer()).equals(s3.objects.get('tiles/deep_files/9/1_0.jpeg')!.body),
      ).toBe(true);
    } finally {
      await stack.close();
    }
    // A rerun of `upload` finds the DZI (not a tree) and sends nothing new.
    const again = await cli(['upload', '-d', 'deep', '--out', 'dz'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/uploaded 0 objects .* 12 already there/);
  });

  it('--format pmtiles --upload sends the one archive beside {dataset}; the server reads it; a failure resumes with `upload`', async () => {
    s3.objects.clear();
    s3.fault = (q) => (q.method === 'PUT' ? 403 : undefined);
    const first = await cli(
      ['tile', 'in.png', '-d', 'arch', '--out', 'pm', '-f', 'pmtiles', '--max-zoom', '1', '--upload'],
      env,
    );
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/error \[ORIGIN_ERROR\]: PUT tiles\/arch\.pmtiles .*answered 403/);
    s3.fault = () => undefined;
    const second = await cli(['upload', '-d', 'arch', '--out', 'pm', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).upload).toMatchObject({
      uploaded: 1,
      completeKey: 'tiles/arch.pmtiles',
    });
    expect([...s3.objects.keys()]).toEqual(['tiles/arch.pmtiles']);
    expect(s3.objects.get('tiles/arch.pmtiles')?.contentType).toBe('application/vnd.pmtiles');
    const stack = await serveBucket();
    try {
      const t = await fetch(`${stack.serverUrl}/api/tiles/arch/1/1/1.jpg`);
      expect([t.status, t.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
      expect(stack.origin.count('tiles/arch/manifest.json')).toBe(1); // probed, and the archive won
    } finally {
      await stack.close();
    }
  });

  it('refuses archives and DZI with a template that has no {dataset}, before tiling', async () => {
    const r = await cli(['tile', 'in.png', '-d', 'nod', '--out', 'nod', '-f', 'pmtiles', '--upload'], {
      ...env,
      TILE_KEY_TEMPLATE: '{z}/{x}/{y}.{ext}',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TILE_KEY_TEMPLATE has no \{dataset\}/);
    expect(existsSync(path.join(tmp, 'nod'))).toBe(false);
  });
});

describe('tile-accelerator serve', () => {
  it("starts the companion server on the tiler's output and stops on SIGTERM with exit 0", async () => {
    const built = await cli([
      'tile',
      'in.png',
      '-d',
      'served',
      '--out',
      'served',
      '--max-zoom',
      '2',
      '--quiet',
    ]);
    expect(built.code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: tmp,
      env: { ...process.env, TILES_DIR: 'served', LOG_LEVEL: 'warn' },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listening line in 15 s: ${out}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`server exited early with ${code}`)));
      });
      const res = await fetch(`${url}/api/tiles/served/1/1/0.jpg`);
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(await readFile(path.join(tmp, 'served', 'served', '1', '1', '0.jpg')))).toBe(true);
      // z2 is 1024x683: row 3 is past the image's bottom, a real 404.
      expect((await fetch(`${url}/api/tiles/served/2/1/2.jpg`)).status).toBe(200);
      expect((await fetch(`${url}/api/tiles/served/2/1/3.jpg`)).status).toBe(404);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
