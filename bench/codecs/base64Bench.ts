// base64 decode throughput: Node (ours vs Buffer) and headless Chromium (ours vs
// Uint8Array.fromBase64 vs atob + copy), 16 KiB and 1 MiB payloads.
import { Buffer } from 'node:buffer';
import type { Server } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { base64Backend, base64Decode } from '../../src/wasm/base64.js';
import type { CodecModule } from '../../src/wasm/codecModule.js';
import type { BenchContext } from '../types.js';
import { f2, ratio, timeIt } from './measure.js';
import { servePage } from './servePage.js';

const SIZES = [16 * 1024, 1024 * 1024];

function payload(n: number): string {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
  return b.toString('base64');
}

const gbps = (bytes: number, ms: number) => bytes / ms / 1e6;

export async function base64NodeTable(ctx: BenchContext, mod: CodecModule): Promise<string> {
  ctx.log('codecs: base64 in Node');
  const budget = ctx.quick ? 100 : 400;
  let md = `### base64 decode in Node (\`auto\` picked ${base64Backend(mod)}, GB/s of decoded bytes)\n\n`;
  md += '| payload | ours (wasm) | ours `auto` | Buffer.from (lenient, no check) | wasm / Buffer |\n';
  md += '| --- | --- | --- | --- | --- |\n';
  for (const n of SIZES) {
    const s = payload(n);
    const wasm = gbps(
      n,
      timeIt(() => base64Decode(s, { backend: 'wasm' }, mod), budget),
    );
    const auto = gbps(
      n,
      timeIt(() => base64Decode(s, {}, mod), budget),
    );
    const buf = gbps(
      n,
      timeIt(() => Buffer.from(s, 'base64'), budget),
    );
    md += `| ${n / 1024} KiB | ${f2(wasm)} | ${f2(auto)} | ${f2(buf)} | ${ratio(wasm / buf)} |\n`;
  }
  return md;
}

// Runs inside the page: times each decoder on each payload for `budget` ms.
const PAGE_SCRIPT = `
import { initCodecs, base64Backend, base64Decode, base64DecodeBytes } from './codecs.js';
window.runBench = async (sizes, budget) => {
  const mod = await initCodecs();
  // fastest batch mean (preemption on a shared machine only adds time), as in measure.ts
  const time = (fn) => { fn(); const t0 = performance.now(); let best = Infinity;
    while (performance.now() - t0 < budget) { const b0 = performance.now(); let n = 0;
      do { fn(); n++; } while (performance.now() - b0 < budget / 8);
      best = Math.min(best, (performance.now() - b0) / n); }
    return best; };
  const out = { flavour: mod.flavour, backend: base64Backend(), native: typeof Uint8Array.fromBase64 === 'function', rows: [] };
  for (const n of sizes) {
    const bytes = new Uint8Array(n); for (let i = 0; i < n; i++) bytes[i] = Math.imul(i, 2654435761) >>> 24;
    let bin = ''; for (let i = 0; i < n; i += 4096) bin += String.fromCharCode(...bytes.subarray(i, i + 4096));
    const s = btoa(bin);
    const row = { n };
    row.ours = time(() => base64Decode(s, { backend: 'wasm' }));
    row.auto = time(() => base64Decode(s));
    const ascii = new TextEncoder().encode(s);
    row.bytes = time(() => base64DecodeBytes(ascii));
    const into = new Uint8Array(n);
    row.into = time(() => base64DecodeBytes(ascii, { out: into }));
    if (out.native) row.native = time(() => Uint8Array.fromBase64(s));
    row.atob = time(() => { const b = atob(s); const u = new Uint8Array(b.length);
      for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u; });
    out.rows.push(row);
  }
  return out;
};
`;

interface PageRow {
  n: number;
  ours: number;
  auto: number;
  bytes: number;
  into: number;
  native?: number;
  atob: number;
}

async function serve(root: string): Promise<{ server: Server; url: string }> {
  const bundle = await build({
    entryPoints: [`${root}/src/wasm/index.ts`],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2022',
  });
  return servePage(root, {
    '/': ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'],
    '/page.js': ['text/javascript', PAGE_SCRIPT],
    '/codecs.js': ['text/javascript', bundle.outputFiles[0]!.text],
  });
}

export async function base64BrowserTable(ctx: BenchContext): Promise<string> {
  if (!ctx.chromiumPath) return '### base64 decode in Chromium\n\nSkipped: no Chromium on this machine.\n';
  ctx.log('codecs: base64 in headless Chromium');
  const { server, url } = await serve(ctx.root);
  const browser = await chromium.launch({
    executablePath: ctx.chromiumPath,
    args: ctx.chromiumArgs,
    headless: true,
  });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => 'runBench' in globalThis, undefined, { timeout: 20_000 });
    const res = (await page.evaluate(
      ([sizes, budget]) =>
        (globalThis as unknown as { runBench(s: number[], b: number): Promise<unknown> }).runBench(
          sizes,
          budget,
        ),
      [SIZES, ctx.quick ? 100 : 400] as [number[], number],
    )) as { flavour: string; backend: string; native: boolean; rows: PageRow[] };
    let md = `### base64 decode in headless Chromium (${res.flavour} build, \`auto\` picked ${res.backend}, GB/s of decoded bytes)\n\n`;
    md +=
      '| payload | ours (string in) | ours (bytes in) | ours (bytes in, reused output) | `auto` | Uint8Array.fromBase64 | atob + copy | ours / fromBase64 | ours / atob | bytes-in / fromBase64 | bytes-in reused / fromBase64 |\n';
    md += '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n';
    const targets: string[] = [];
    for (const r of res.rows) {
      const o = gbps(r.n, r.ours);
      const nat = r.native ? gbps(r.n, r.native) : Number.NaN;
      const at = gbps(r.n, r.atob);
      const by = gbps(r.n, r.bytes);
      const bi = gbps(r.n, r.into);
      md += `| ${r.n / 1024} KiB | ${f2(o)} | ${f2(by)} | ${f2(bi)} | ${f2(gbps(r.n, r.auto))} | ${r.native ? f2(nat) : 'n/a'} | ${f2(at)} | ${r.native ? ratio(o / nat) : 'n/a'} | ${ratio(o / at)} | ${r.native ? ratio(by / nat) : 'n/a'} | ${r.native ? ratio(bi / nat) : 'n/a'} |\n`;
      targets.push(
        `${r.n / 1024} KiB: vs fromBase64 ${r.native ? ratio(o / nat) : 'n/a'} (target 3×: ${o >= 3 * nat ? 'met' : '**missed**'}), vs atob ${ratio(o / at)} (target 5×: ${o >= 5 * at ? 'met' : '**missed**'})`,
      );
    }
    return `${md}\n${targets.join('; ')}.\n`;
  } finally {
    await browser.close();
    server.close();
  }
}
