// The pool's worker script (a module worker): raster images through
// createImageBitmap + OffscreenCanvas, BC1/BC3/DDS and JSON-batch base64
// through the WASM codecs (loaded on the first job that needs them).
import { expose } from 'comlink';
import { loadJsonBatchDecoder, loadWasmCodecs } from './pool/wasmCodecs.js';
import { createCodecWorkerApi } from './pool/workerApi.js';

expose(createCodecWorkerApi({ codecs: loadWasmCodecs, jsonBatch: loadJsonBatchDecoder }));
