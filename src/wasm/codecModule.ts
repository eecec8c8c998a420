import { TileError } from '../protocol/errors.js';

// The server tsconfig has no DOM lib, so the few WebAssembly shapes used here are declared.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  value: unknown;
}
interface WasmInstantiated {
  instance: { exports: unknown };
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  instantiate(bytes: ArrayBuffer, imports: object): Promise<WasmInstantiated>;
  instantiateStreaming(res: Response, imports: object): Promise<WasmInstantiated>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The raw exports of codecs-{simd,scalar}.wasm (see src/wasm/assembly/index.ts). */
export interface CodecExports {
  memory: WasmMemory;
  scratchBase(): number;
  b64ErrorKind: WasmGlobal;
  b64Decode(src: number, len: number, dst: number, url: number): number;
  b64Encode(src: number, len: number, dst: number, url: number, pad: number): number;
  decodeBC1(src: number, width: number, height: number, dst: number): void;
  decodeBC3(src: number, width: number, height: number, dst: number): void;
  encodeBC1(src: number, width: number, height: number, dst: number, high: number, alphaMode: number): void;
  encodeBC3(src: number, width: number, height: number, dst: number, high: number): void;
  downsample(src: number, width: number, height: number, dst: number): void;
  jsonTiles(p: number, end: number, dst: number, tab: number, max: number): number;
  jsonTilesPos: WasmGlobal;
  jsonTilesState: WasmGlobal;
}

export type CodecFlavour = 'simd' | 'scalar';

const PAGE = 65536;

/**
 * One instantiated module and its scratch region. Callers copy their input into
 * `ensure(n)`'s region once, run a raw export on pointers, and copy the result out.
 * Views are re-created only when a `memory.grow` detached the old buffer.
 */
export class CodecModule {
  readonly exports: CodecExports;
  readonly flavour: CodecFlavour;
  readonly base: number;
  private view: Uint8Array;

  constructor(exports: CodecExports, flavour: CodecFlavour) {
    this.exports = exports;
    this.flavour = flavour;
    this.base = exports.scratchBase();
    this.view = new Uint8Array(exports.memory.buffer);
  }

  /** Current byte view of linear memory (re-created after growth). */
  get u8(): Uint8Array {
    if (this.view.buffer !== this.exports.memory.buffer)
      this.view = new Uint8Array(this.exports.memory.buffer);
    return this.view;
  }

  /** Make `bytes` of scratch available from `base`; grows at least 2x so growth stays rare. */
  ensure(bytes: number): number {
    const need = this.base + bytes;
    const have = this.exports.memory.buffer.byteLength;
    if (need > have) {
      const target = Math.max(need, have * 2);
      const pages = Math.ceil((target - have) / PAGE);
      try {
        this.exports.memory.grow(pages);
      } catch (e) {
        throw new TileError(
          'INTERNAL',
          `codec memory cannot grow to ${target} bytes`,
          { bytes },
          { cause: e },
        );
      }
    }
    return this.base;
  }
}

// wasm-feature-detect's SIMD probe: a function using v128 ops, validated without running.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

/** true when this runtime validates a SIMD module. */
export function simdSupported(): boolean {
  try {
    return Wasm.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function wasmUrl(flavour: CodecFlavour): URL {
  // Literal `new URL(..., import.meta.url)` so Vite emits the .wasm as an asset.
  return flavour === 'simd'
    ? new URL('./build/codecs-simd.wasm', import.meta.url)
    : new URL('./build/codecs-scalar.wasm', import.meta.url);
}

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

async function wasmBytes(url: URL): Promise<ArrayBuffer | Response> {
  if (url.protocol === 'file:') {
    // Node: no fetch for file URLs. getBuiltinModule needs no import, so bundlers for the
    // browser and the service worker never see a node: specifier.
    const proc = (globalThis as { process?: NodeProcess }).process;
    const fs = proc?.getBuiltinModule?.('node:fs') as
      | { promises: { readFile(u: URL): Promise<Uint8Array> } }
      | undefined;
    if (!fs) throw new TileError('INTERNAL', 'cannot read a file: URL in this runtime', { url: url.href });
    const b = await fs.promises.readFile(url);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new TileError('INTERNAL', `codec module fetch failed: ${res.status}`, { url: url.href });
  return res;
}

/** Instantiate one flavour (default: SIMD when the runtime validates it, else scalar). */
export async function instantiateCodecModule(flavour?: CodecFlavour): Promise<CodecModule> {
  const f: CodecFlavour = flavour ?? (simdSupported() ? 'simd' : 'scalar');
  const src = await wasmBytes(wasmUrl(f));
  const imports = { env: { abort: wasmAbort } };
  let made: WasmInstantiated;
  if (src instanceof Response) {
    const streaming = src.headers.get('content-type')?.startsWith('application/wasm');
    made = streaming
      ? await Wasm.instantiateStreaming(src, imports)
      : await Wasm.instantiate(await src.arrayBuffer(), imports);
  } else {
    made = await Wasm.instantiate(src, imports);
  }
  const instance = made.instance;
  return new CodecModule(instance.exports as unknown as CodecExports, f);
}

function wasmAbort(): never {
  throw new TileError('INTERNAL', 'codec module aborted');
}

let ready: Promise<CodecModule> | undefined;
let current: CodecModule | undefined;

/** Load the codecs once (idempotent); every sync codec call needs this to have resolved. */
export function initCodecs(): Promise<CodecModule> {
  ready ??= instantiateCodecModule().then(
    (m) => {
      current = m;
      return m;
    },
    (e: unknown) => {
      ready = undefined;
      throw e;
    },
  );
  return ready;
}

/** The loaded module, or a coded error when initCodecs() has not resolved yet. */
export function codecs(): CodecModule {
  if (!current) throw new TileError('INTERNAL', 'codecs not initialised: await initCodecs() first');
  return current;
}
