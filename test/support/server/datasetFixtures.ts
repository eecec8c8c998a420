import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Stack, type StackOptions, startStack } from '../../../e2e/harness/startStack.js';
import { makeTestImage } from './testImage.js';

const run = promisify(execFile);

export interface DzsaveOptions {
  width: number;
  height: number;
  tileSize?: number;
  overlap?: number;
  /** `.jpeg` (vips' default), `.png`, `.webp`. */
  suffix?: string;
}

/**
 * A real Deep Zoom pyramid written by `vips dzsave` (libvips-tools, installed
 * by scripts/ensure-tools.mjs): `dir/name.dzi` + `dir/name_files/`.
 */
export async function vipsDzsave(dir: string, name: string, o: DzsaveOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  const src = path.join(dir, `${name}-source.png`);
  await makeTestImage(src, o.width, o.height);
  await run('vips', [
    'dzsave',
    src,
    path.join(dir, name),
    '--tile-size',
    String(o.tileSize ?? 254),
    '--overlap',
    String(o.overlap ?? 1),
    '--suffix',
    o.suffix ?? '.jpeg',
  ]);
}

/** Every file under `dir` as a mock-origin object (key = relative path). */
export async function filesUnder(dir: string, prefix = ''): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, await filesUnder(p, `${prefix}${e.name}/`));
    else out[`${prefix}${e.name}`] = await readFile(p);
  }
  return out;
}

/** Origin requests for keys starting with `prefix`, and the Range headers they carried. */
export function requestsFor(
  origin: { requests: { key: string; headers: Record<string, string | string[] | undefined> }[] },
  prefix: string,
): { key: string; range: string | undefined }[] {
  return origin.requests
    .filter((r) => r.key.startsWith(prefix))
    .map((r) => ({ key: r.key, range: typeof r.headers.range === 'string' ? r.headers.range : undefined }));
}

/** A stack whose origin holds `files`, with dataset discovery on (the harness default is `tree`). */
export function datasetStack(
  files: Record<string, Uint8Array | string>,
  opts: StackOptions = {},
): Promise<Stack> {
  return startStack({
    ...opts,
    origin: { files, ...opts.origin },
    config: { datasetDiscovery: 'auto', ...opts.config },
  });
}
