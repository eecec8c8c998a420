import { parseArgs } from 'node:util';
import { startMockOrigin } from './MockOrigin.js';

// node --import tsx e2e/mockOrigin/cli.ts --root DIR --port N --latency MS --bandwidth BYTES_PER_SEC --error-rate F [--counts-path /_mock/counts]
const { values } = parseArgs({
  options: {
    root: { type: 'string', default: 'data' },
    port: { type: 'string', default: '0' },
    latency: { type: 'string', default: '0' },
    bandwidth: { type: 'string' },
    'error-rate': { type: 'string' },
    seed: { type: 'string' },
    'counts-path': { type: 'string' },
  },
});

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`mock origin: --${name} must be a non-negative number, got ${v}`);
    process.exit(2);
  }
  return n;
}

const origin = await startMockOrigin(
  {
    root: values.root,
    latencyMs: num('latency', values.latency),
    bandwidthBytesPerSec: num('bandwidth', values.bandwidth),
    errorRate: num('error-rate', values['error-rate']),
    seed: num('seed', values.seed),
    // A benchmark sends millions of requests: counts only, no header log.
    maxRecorded: 0,
    ...(values['counts-path'] ? { countsPath: values['counts-path'] } : {}),
  },
  num('port', values.port) ?? 0,
);
console.log(origin.url);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    origin.close().then(() => process.exit(0));
  });
}
