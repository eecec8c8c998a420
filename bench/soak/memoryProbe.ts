// The soak's memory evidence on disk (bench/soak/out/<run>/, gitignored): Chromium's memory per
// process kind over time (memory.csv), memory-infra dumps over time (memdumps.jsonl) and V8 heap
// snapshots of the service-worker target and of one tab (HeapProfiler.takeHeapSnapshot), which
// `heapDiff.ts` summarises and diffs. Bounded: one CSV row per stats sample, a dump every
// SOAK_DUMP_MINUTES, two snapshots per target.
import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';

export class MemoryProbe {
  private csvKinds?: string[];
  private t0 = Date.now();

  constructor(readonly dir: string) {}

  static async create(root: string, label: string): Promise<MemoryProbe> {
    const stamp = new Date().toISOString().slice(0, 16).replace(':', '');
    const dir = path.join(root, 'bench/soak/out', `${stamp}-${label}`);
    await mkdir(dir, { recursive: true });
    return new MemoryProbe(dir);
  }

  /** One row of PSS per process kind (MB); the columns are fixed by the first row (unseen kinds read 0). */
  async sample(by: Record<string, number>, extra: Record<string, number>): Promise<void> {
    const file = path.join(this.dir, 'memory.csv');
    if (!this.csvKinds) {
      this.t0 = Date.now();
      this.csvKinds = [...new Set([...Object.keys(by), 'renderer', 'renderer+sw', 'utility:storage'])].sort();
      await writeFile(file, `${['min', ...this.csvKinds, 'total', ...Object.keys(extra)].join(',')}\n`);
    }
    const kinds = this.csvKinds;
    const total = Object.entries(by).reduce((a, [k, mb]) => (k === 'renderers' ? a : a + mb), 0);
    const row = [
      ((Date.now() - this.t0) / 60_000).toFixed(2),
      ...kinds.map((k) => (by[k] ?? 0).toFixed(1)),
      total.toFixed(1),
      ...Object.values(extra).map((v) => v.toFixed(2)),
    ];
    await appendFile(file, `${row.join(',')}\n`);
  }

  async dump(label: string, d: Record<string, Record<string, number>> | undefined): Promise<void> {
    if (!d) return;
    const line = { t: new Date().toISOString(), min: (Date.now() - this.t0) / 60_000, label, dump: d };
    await appendFile(path.join(this.dir, 'memdumps.jsonl'), `${JSON.stringify(line)}\n`);
  }

  /** A heap snapshot of a tab (its own CDP session), streamed to <name>.heapsnapshot. */
  async snapshotPage(cdp: CDPSession, name: string): Promise<string | undefined> {
    const file = path.join(this.dir, `${name}.heapsnapshot`);
    const out = createWriteStream(file);
    const onChunk = (e: { chunk: string }) => out.write(e.chunk);
    cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
    try {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      return file;
    } catch (e) {
      console.error(`soak: heap snapshot ${name} failed: ${String(e)}`);
      return undefined;
    } finally {
      cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
      await close(out);
    }
  }

  /**
   * A heap snapshot of the service-worker target. Playwright gives no CDP session for a worker,
   * so this attaches from the browser session (non-flat: messages travel as Target.sendMessageToTarget).
   */
  async snapshotServiceWorker(browser: Browser, name: string): Promise<string | undefined> {
    const cdp = await browser.newBrowserCDPSession();
    const file = path.join(this.dir, `${name}.heapsnapshot`);
    let out: WriteStream | undefined;
    try {
      const { targetInfos } = (await cdp.send('Target.getTargets')) as {
        targetInfos: Array<{ targetId: string; type: string; url: string }>;
      };
      const sw = targetInfos.find((t) => t.type === 'service_worker');
      if (!sw) throw new Error('no service_worker target');
      const { sessionId } = (await cdp.send('Target.attachToTarget', {
        targetId: sw.targetId,
        flatten: false,
      })) as { sessionId: string };
      out = createWriteStream(file);
      const stream = out;
      let next = 1;
      const waiting = new Map<number, (m: { error?: unknown }) => void>();
      cdp.on('Target.receivedMessageFromTarget', (e: { sessionId: string; message: string }) => {
        if (e.sessionId !== sessionId) return;
        const m = JSON.parse(e.message) as {
          id?: number;
          method?: string;
          params?: { chunk: string };
          error?: unknown;
        };
        if (m.method === 'HeapProfiler.addHeapSnapshotChunk') stream.write(m.params!.chunk);
        else if (m.id !== undefined) waiting.get(m.id)?.(m);
      });
      const send = (method: string, params: object = {}) =>
        new Promise<void>((resolve, reject) => {
          const id = next++;
          const timer = setTimeout(() => reject(new Error(`${method}: no answer in 120 s`)), 120_000);
          waiting.set(id, (m) => {
            clearTimeout(timer);
            if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
            else resolve();
          });
          void cdp
            .send('Target.sendMessageToTarget', {
              sessionId,
              message: JSON.stringify({ id, method, params }),
            })
            .catch(reject);
        });
      await send('HeapProfiler.enable');
      await send('HeapProfiler.collectGarbage');
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
      return file;
    } catch (e) {
      console.error(`soak: heap snapshot ${name} failed: ${String(e)}`);
      return undefined;
    } finally {
      if (out) await close(out);
      await cdp.detach().catch(() => {});
    }
  }
}

function close(s: WriteStream): Promise<void> {
  return new Promise((r) => s.end(() => r()));
}
