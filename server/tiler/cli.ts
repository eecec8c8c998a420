import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isTileError } from '../../src/protocol/errors.js';
import { isValidDatasetId } from '../../src/protocol/tileKey.js';
import { tileKeyTemplateFrom } from '../config.js';
import { TILE_FORMATS, type TileFormat } from './manifest.js';
import { packPmtiles } from './packPmtiles.js';
import { ProgressPrinter, type ProgressStream } from './progressPrinter.js';
import { PACKAGE_ROOT, runServe } from './serveCommand.js';
import { tileDzi } from './tileDzi.js';
import { tileImage } from './tileImage.js';
import { type Built, findBuilt, uploadBuilt } from './uploadBuilt.js';
import { s3TargetFromEnv } from './uploadDataset.js';
import { singleObjectPrefix } from './uploadObjects.js';

const USAGE = `Usage:
  tile-accelerator tile <image> --dataset <id> [options]   build a tile pyramid
  tile-accelerator upload --dataset <id> [--out dir]        upload (or resume uploading) a built dataset
                                                            (<id>.pmtiles, else <id>.dzi, else the tree <id>/)
  tile-accelerator serve [--port n] [--host h]              start the companion server (as npm start)

Options for tile:
  --dataset, -d <id>     dataset id, 1-64 of [A-Za-z0-9_-]
  --out, -o <dir>        output root (default: $TILES_DIR or ./data); tiles go to <dir>/<id>/{z}/{x}/{y}.<fmt>
  --format, -f <fmt>     jpg (default), png, webp, or pmtiles (jpg tiles in one PMTiles v3
                         archive <dir>/<id>.pmtiles instead of the tree)
  --layout <tree|dzi>    tree (default), or dzi: Deep Zoom as vips dzsave writes it,
                         <dir>/<id>.dzi + <dir>/<id>_files/{level}/{col}_{row}.<fmt>
  --overlap <px>         dzi only: pixels repeated on inner tile edges (default 1)
  --tile <px>            tile size (default 256; 254 with --layout dzi)
  --max-zoom <z>         deepest level (default: the first at least as large as the image; not with dzi)
  --quality, -q <1-100>  jpg/webp quality (default 85)
  --upload               then upload to the bucket in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                         AWS_BUCKET_NAME, S3_ENDPOINT_URL (AWS_REGION optional, default auto);
                         keys follow TILE_KEY_TEMPLATE (archives and DZI beside its {dataset});
                         keys already there are skipped
  --concurrency <n>      parallel uploads (default 16)
  --json                 print the result as JSON on stdout
  --quiet                no progress on stderr

Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 130 interrupted.`;

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where SIGINT/SIGTERM come from (the process, or an emitter in tests). */
  signals: NodeJS.EventEmitter;
}

class UsageError extends Error {}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        dataset: { type: 'string', short: 'd' },
        out: { type: 'string', short: 'o' },
        format: { type: 'string', short: 'f' },
        layout: { type: 'string' },
        overlap: { type: 'string' },
        tile: { type: 'string' },
        'max-zoom': { type: 'string' },
        quality: { type: 'string', short: 'q' },
        upload: { type: 'boolean' },
        concurrency: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function datasetOf(v: string | undefined): string {
  if (v === undefined) throw new UsageError('--dataset <id> is required');
  if (!isValidDatasetId(v)) throw new UsageError(`--dataset "${v}" is not 1-64 characters of [A-Za-z0-9_-]`);
  return v;
}

async function run(argv: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const { values: v, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (v.version) {
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (v.help || command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const say = (s: string) => io.stderr.write(`${s}\n`);
  const printer = new ProgressPrinter(v.quiet ? { write: () => true } : io.stderr);
  const outRoot = path.resolve(io.cwd, v.out ?? (io.env.TILES_DIR?.trim() || 'data'));

  if (command === 'serve') {
    if (rest.length) throw new UsageError(`serve takes no arguments (got "${rest[0]}")`);
    const env = { ...io.env };
    if (v.port !== undefined) env.PORT = String(int('port', v.port, 0, 65535));
    if (v.host !== undefined) env.HOST = v.host;
    return runServe(env, say, io.signals);
  }

  if (command === 'tile' || command === 'upload') {
    const dataset = datasetOf(v.dataset);
    // Validated before any work so a typo costs nothing.
    const target = v.upload || command === 'upload' ? s3TargetFromEnv(io.env) : undefined;
    const template = target ? tileKeyTemplateFrom(io.env) : undefined;
    const concurrency = int('concurrency', v.concurrency, 1, 256);
    let built: Built = findBuilt(outRoot, dataset) ?? { kind: 'tree', path: path.join(outRoot, dataset) };
    let result: Record<string, unknown> = { dataset, dir: built.path };

    if (command === 'tile') {
      if (rest.length !== 1) throw new UsageError('tile needs exactly one <image>');
      const image = path.resolve(io.cwd, rest[0]!);
      if (!existsSync(image)) throw new UsageError(`no such file: ${image}`);
      const layout = v.layout ?? 'tree';
      if (layout !== 'tree' && layout !== 'dzi') throw new UsageError('--layout must be tree or dzi');
      const dzi = layout === 'dzi';
      const asked = v.format ?? 'jpg';
      const pack = asked === 'pmtiles';
      if (pack && dzi) throw new UsageError('--format pmtiles is a layout of its own: not with --layout dzi');
      const format = (pack ? 'jpg' : asked) as TileFormat;
      if (!TILE_FORMATS.includes(format))
        throw new UsageError(`--format must be one of ${TILE_FORMATS.join(', ')}, pmtiles`);
      if (dzi && v['max-zoom'] !== undefined)
        throw new UsageError(
          '--max-zoom does not apply to --layout dzi (its levels go from 1x1 px to the image size)',
        );
      if (!dzi && v.overlap !== undefined) throw new UsageError('--overlap needs --layout dzi');
      // Refused before the work: the server finds archives and descriptors only beside {dataset}.
      if (template !== undefined && (pack || dzi)) singleObjectPrefix(template);
      const tileSize = int('tile', v.tile, 16, 4096) ?? (dzi ? 254 : 256);
      const maxZoom = int('max-zoom', v['max-zoom'], 0, 16);
      const overlap = int('overlap', v.overlap, 0, Math.floor(tileSize / 2));
      const quality = int('quality', v.quality, 1, 100);
      const started = Date.now();
      const secs = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (dzi) {
        const r = await tileDzi(image, {
          dataset,
          outDir: outRoot,
          format,
          tileSize,
          ...(overlap !== undefined ? { overlap } : {}),
          ...(quality !== undefined ? { quality } : {}),
          signal,
          onProgress: (p) =>
            say(`writing Deep Zoom levels 0-${Math.ceil(Math.log2(Math.max(p.width, p.height)))}`),
        });
        built = { kind: 'dzi', path: r.descriptorFile };
        result = {
          descriptor: r.descriptorFile,
          files: r.filesDir,
          dzi: r.descriptor,
          tileCount: r.tileCount,
        };
        say(
          `tiled ${path.basename(image)} into ${r.descriptorFile}: ${r.tileCount} tiles, levels 0-${r.maxLevel}, ` +
            `${r.descriptor.width}x${r.descriptor.height} px, ${secs()}`,
        );
      } else {
        const { dir, manifest } = await tileImage(image, {
          dataset,
          outDir: outRoot,
          format,
          tileSize,
          ...(maxZoom !== undefined ? { maxZoom } : {}),
          ...(quality !== undefined ? { quality } : {}),
          signal,
          onProgress: (p) => printer.tile(p),
        });
        built = pack
          ? { kind: 'pmtiles', path: await packPmtiles(dir, manifest) }
          : { kind: 'tree', path: dir };
        result = pack ? { archive: built.path, manifest } : { dir, manifest };
        say(
          `tiled ${path.basename(image)} into ${built.path}: ${manifest.tileCount} tiles, levels ${manifest.minZoom}-${manifest.maxZoom}, ` +
            `${manifest.width}x${manifest.height} px, ${secs()}`,
        );
      }
    } else if (rest.length) {
      throw new UsageError(`upload takes no positional arguments (got "${rest[0]}")`);
    }

    if (target) {
      const up = await uploadBuilt(built, {
        target,
        keyTemplate: template!,
        ...(concurrency !== undefined ? { concurrency } : {}),
        signal,
        onProgress: (p) => printer.upload(p),
        onRetry: (key, e, attempt, delay) => {
          if (!v.quiet) say(`retry ${attempt} of ${key} in ${delay} ms: ${e.message}`);
        },
      });
      result.upload = up;
      say(
        `uploaded ${up.uploaded} objects (${(up.bytes / 1e6).toFixed(1)} MB), ${up.skipped} already there, to ${target.bucket}`,
      );
    }
    if (v.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else io.stdout.write(`${built.path}\n`);
    return 0;
  }

  throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
}

/** Runs the CLI; resolves to the exit code (never calls process.exit, so it can be tested in-process). */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    signals: io.signals ?? process,
  };
  const ac = new AbortController();
  let firstInterrupt = 0;
  // The first Ctrl-C stops cleanly (no half dataset left); a second one a
  // second later is an impatient user, and the process is ended as is. The
  // grace second also absorbs the same SIGINT arriving twice (terminal + parent).
  const onSignal = (sig: NodeJS.Signals) => {
    if (!firstInterrupt) {
      firstInterrupt = Date.now();
      full.stderr.write(`\n${sig}: stopping (again to force)\n`);
      ac.abort(new Error(sig));
    } else if (Date.now() - firstInterrupt > 1000) {
      process.exit(130);
    }
  };
  const isServe = argv.includes('serve');
  if (!isServe) {
    full.signals.on('SIGINT', onSignal);
    full.signals.on('SIGTERM', onSignal);
  }
  try {
    return await run(argv, full, ac.signal);
  } catch (e) {
    if (e instanceof UsageError) {
      full.stderr.write(`error: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (isTileError(e, 'BAD_CONFIG')) {
      full.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    if (isTileError(e, 'ABORTED') || ac.signal.aborted) {
      full.stderr.write('interrupted: nothing half-written was left behind; a rerun resumes\n');
      return 130;
    }
    const detail = isTileError(e) ? ` [${e.code}]` : '';
    full.stderr.write(`error${detail}: ${(e as Error).message}\n`);
    if (isTileError(e) && e.details.progress) {
      full.stderr.write(
        `progress before the failure: ${JSON.stringify(e.details.progress)}; rerun to resume\n`,
      );
    }
    return 1;
  } finally {
    full.signals.off('SIGINT', onSignal);
    full.signals.off('SIGTERM', onSignal);
  }
}
