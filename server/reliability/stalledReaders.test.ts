import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { BATCH_MEDIA_TYPE } from '../../src/protocol/batchFraming.js';
import {
  engineIdle,
  get,
  startFaultStack,
  tileFiles,
  tilePathOf,
} from '../../test/support/server/faultKit.js';

let sockets: Socket[] = [];
let stack: Stack | undefined;

/** Polls `f` until true or the deadline passes (then fails with `what`). */
async function eventually(f: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

interface RawResponse {
  socket: Socket;
  status: number;
  headers: string;
  /** Body bytes that came with the head. */
  rest: Buffer;
  closed: Promise<void>;
}

/**
 * A raw HTTP/1.1 request over its own socket. Resolves once the response head
 * is in; from then on the socket is paused: the test decides whether (and how
 * fast) the body is read. A client that stops reading is exactly this.
 */
function rawRequest(serverUrl: string, head: string, body = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  // The server resets a stalled socket: expected here.
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const at = buf.indexOf('\r\n\r\n');
      if (at < 0) return;
      socket.off('data', onData);
      socket.pause();
      const text = buf.subarray(0, at).toString('latin1');
      resolve({
        socket,
        status: Number(text.split(' ')[1]),
        headers: text,
        rest: buf.subarray(at + 4),
        closed,
      });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before the response head')));
    socket.write(`${head}\r\nHost: ${hostname}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

/** Reads the rest of a paused response slowly: up to `perTick` bytes every `tickMs`, until `total`. */
async function readSlowly(r: RawResponse, total: number, perTick: number, tickMs: number): Promise<Buffer> {
  const parts = [r.rest];
  let got = r.rest.length;
  while (got < total) {
    let tick = 0;
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        parts.push(d);
        got += d.length;
        tick += d.length;
        if (tick >= perTick || got >= total) done();
      };
      const onClose = () => {
        done();
        reject(new Error(`cut after ${got} of ${total} bytes`));
      };
      const done = () => {
        r.socket.pause();
        r.socket.off('data', onData);
        r.socket.off('close', onClose);
        resolve();
      };
      r.socket.on('data', onData);
      r.socket.once('close', onClose);
      r.socket.resume();
    });
    if (got < total) await sleep(tickMs);
  }
  return Buffer.concat(parts);
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await stack?.close();
  stack = undefined;
});

const metric = async (name: string): Promise<number> => {
  const text = (await get(`${stack!.serverUrl}/metrics`)).bytes.toString();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
};

describe('clients that stop reading (SEND_TIMEOUT_MS)', () => {
  it('two stalled video readers are cut at the send deadline: their origin reads end, the slots are free, tiles flow', async () => {
    // Big enough to fill the loopback socket buffers (a few MiB) several times over.
    const video = randomBytes(24 * 1024 * 1024);
    const files = tileFiles('st', 4);
    const tileKey = Object.keys(files)[0]!;
    stack = await startFaultStack({
      origin: { files: { ...files, 'videos/big.mp4': video } },
      config: {
        originConcurrency: 2,
        videoChunkBytes: 64 * 1024,
        sendTimeoutMs: 400,
        originTimeoutMs: 10_000,
        originAttemptTimeoutMs: 10_000,
      },
    });
    const readers = await Promise.all(
      [0, 1].map(() => rawRequest(stack!.serverUrl, 'GET /api/video/big.mp4 HTTP/1.1\r\nRange: bytes=0-')),
    );
    for (const r of readers) expect(r.status).toBe(206);
    // Neither reader takes another byte: the server's writes block, the deadline cuts both.
    await eventually(() => stack!.server.context.counters.sendStalls === 2, 'two send stalls counted');
    // (A paused socket does not see the reset until it reads again.)
    for (const r of readers) r.socket.resume();
    await Promise.all(readers.map((r) => r.closed));
    // The origin saw both ranged reads aborted, and the engine holds nothing.
    await eventually(() => stack!.origin.aborted() >= 2, 'origin reads aborted');
    await engineIdle(stack);
    await eventually(() => stack!.server.context.engine.stats().streams === 0, 'no stream open');
    expect(stack.server.context.engine.stats()).toMatchObject({ inFlight: 0, queued: 0, streamsQueued: 0 });
    // Far less than the video went out: the cut happened mid-body, not at the end.
    expect(stack.server.context.counters.videoBytes).toBeLessThan(2 * video.length);
    const t = await get(stack.serverUrl + tilePathOf(tileKey));
    expect(t.status).toBe(200);
    expect(t.headers.get('x-tile-source')).toBe('origin');
    expect(t.bytes.equals(Buffer.from(files[tileKey]!))).toBe(true);
    expect(await metric('tile_send_stalls_total')).toBe(2);
  });

  it('a binary batch reader that stops reading is cut; the hung fetches it alone waited for are aborted', async () => {
    // 60 fast tiles of 256 KiB (15 MiB of frames) and 2 the origin never answers.
    const files = tileFiles('sb', 62, 256 * 1024);
    const keys = Object.keys(files);
    const hung = new Set(keys.slice(60));
    stack = await startFaultStack({
      origin: { files, hang: (k) => hung.has(k) },
      config: {
        originConcurrency: 4,
        sendTimeoutMs: 400,
        originTimeoutMs: 30_000,
        originAttemptTimeoutMs: 30_000,
      },
    });
    const body = JSON.stringify({ tiles: keys.map((k) => k.slice(3)) });
    const r = await rawRequest(
      stack.serverUrl,
      `POST /api/tiles/sb/batch HTTP/1.1\r\nAccept: ${BATCH_MEDIA_TYPE}\r\nContent-Type: application/json`,
      body,
    );
    expect(r.status).toBe(200);
    await eventually(() => stack!.server.context.counters.sendStalls === 1, 'one send stall counted');
    r.socket.resume();
    await r.closed;
    // Nobody else waited for the hung tiles: cutting the batch aborted them at the origin.
    await eventually(() => stack!.origin.aborted() >= 2, 'hung origin requests aborted');
    await engineIdle(stack);
    const k = keys[0]!;
    const t = await get(stack.serverUrl + tilePathOf(k));
    expect(t.status).toBe(200);
    expect(t.bytes.equals(Buffer.from(files[k]!))).toBe(true);
    expect(await metric('tile_send_stalls_total')).toBe(1);
  });

  it('a JSON batch reader that stops reading is cut too', async () => {
    // ~20 MiB of base64: far more than the socket buffers hold.
    const files = tileFiles('sj', 60, 256 * 1024);
    const keys = Object.keys(files);
    stack = await startFaultStack({ origin: { files }, config: { sendTimeoutMs: 400 } });
    const q = keys.map((k) => `tiles=${k.slice(3)}`).join('&');
    const r = await rawRequest(stack.serverUrl, `GET /api/tiles/sj/batch?${q} HTTP/1.1`);
    expect(r.status).toBe(200);
    await eventually(() => stack!.server.context.counters.sendStalls === 1, 'one send stall counted');
    r.socket.resume();
    await r.closed;
    await engineIdle(stack);
  });

  it('a slow reader that keeps reading is never cut and gets every byte', async () => {
    const video = randomBytes(8 * 1024 * 1024);
    stack = await startFaultStack({
      origin: { files: { 'videos/slow.mp4': video } },
      config: {
        videoChunkBytes: 64 * 1024,
        // Far above the ~100 ms between reads, so a loaded machine cannot turn pacing into a stall.
        sendTimeoutMs: 2_000,
        originTimeoutMs: 30_000,
        originAttemptTimeoutMs: 30_000,
      },
    });
    const start = 1000;
    const r = await rawRequest(stack.serverUrl, `GET /api/video/slow.mp4 HTTP/1.1\r\nRange: bytes=${start}-`);
    expect(r.status).toBe(206);
    const got = await readSlowly(r, video.length - start, 512 * 1024, 100);
    expect(got.equals(video.subarray(start))).toBe(true);
    expect(stack.server.context.counters.sendStalls).toBe(0);
    await engineIdle(stack);
  });

  it('videos being watched hold no ORIGIN_CONCURRENCY slot: tiles flow while they stream', async () => {
    const video = randomBytes(24 * 1024 * 1024);
    const files = tileFiles('sw', 8);
    stack = await startFaultStack({
      origin: { files: { ...files, 'videos/long.mp4': video } },
      config: {
        // One stream slot (half of 2): the viewer below keeps it for its whole playback.
        originConcurrency: 2,
        videoChunkBytes: 64 * 1024,
        // A viewer that is paced, not gone: well inside the send deadline for this test.
        sendTimeoutMs: 60_000,
        originTimeoutMs: 10_000,
        originAttemptTimeoutMs: 10_000,
      },
    });
    const viewer = await rawRequest(stack.serverUrl, 'GET /api/video/long.mp4 HTTP/1.1\r\nRange: bytes=0-');
    expect(viewer.status).toBe(206);
    // A second viewer of another range waits for the stream slot (it used to take the second
    // concurrency slot, and two viewers made every tile wait until its deadline).
    const second = rawRequest(stack.serverUrl, 'GET /api/video/long.mp4 HTTP/1.1\r\nRange: bytes=8388608-');
    await eventually(() => stack!.server.context.engine.stats().streamsQueued === 1, 'second viewer queued');
    expect(stack.server.context.engine.stats()).toMatchObject({ streams: 1, inFlight: 0 });
    // Both concurrency slots are free for tiles: every tile comes from the origin, byte-exact.
    const keys = Object.keys(files);
    const got = await Promise.all(keys.map((k) => get(stack!.serverUrl + tilePathOf(k))));
    for (const [i, t] of got.entries()) {
      expect(t.status).toBe(200);
      expect(t.headers.get('x-tile-source')).toBe('origin');
      expect(t.bytes.equals(Buffer.from(files[keys[i]!]!))).toBe(true);
    }
    expect(stack.server.context.engine.stats().streams).toBe(1);
    // The first viewer leaves: its origin read is aborted and the slot passes to the second.
    viewer.socket.destroy();
    expect((await second).status).toBe(206);
    (await second).socket.destroy();
    await eventually(() => stack!.server.context.engine.stats().streams === 0, 'stream slots freed');
    await eventually(() => stack!.origin.aborted() >= 2, 'both origin reads aborted');
    expect(stack.server.context.counters.sendStalls).toBe(0);
  });
});
