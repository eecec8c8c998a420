import { createHash, createHmac } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { type MockOrigin, startMockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { discard } from './discard.js';
import { S3Origin } from './S3Origin.js';

// s3rver accepts any V4 signature from a known key, so the signature itself is
// checked here: recomputed from what the origin actually received, with an
// independent SigV4 implementation (node:crypto, AWS docs "Create a signed
// AWS API request"), not with the library that produced it.
const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function expectedAuthorization(
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  region: string,
): string {
  const auth = String(headers.authorization);
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  expect(m, auth).not.toBeNull();
  const [, keyId, day, scopeRegion, signedHeaders] = m!;
  expect(scopeRegion).toBe(region);
  const amzDate = String(headers['x-amz-date']);
  expect(amzDate.slice(0, 8)).toBe(day);
  const [path, query = ''] = url.split('?');
  const names = signedHeaders!.split(';');
  expect(names).toContain('host');
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join('');
  const payload = String(headers['x-amz-content-sha256']);
  const canonical = [method, path, query, canonicalHeaders, signedHeaders, payload].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const kDate = hmac(`AWS4${secret}`, day!);
  const kSigning = hmac(hmac(hmac(kDate, region), 's3'), 'aws4_request');
  const sig = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${sig}`;
}

let origin: MockOrigin | undefined;
afterEach(async () => {
  await origin?.close();
});

it('sends a well-formed SigV4 Authorization that recomputes, path-style, range passed', async () => {
  origin = await startMockOrigin({ files: { "tiles/videos/a b(1)'!.mp4": new Uint8Array(50) } });
  const s3 = new S3Origin({
    accessKeyId: 'AKID',
    secretAccessKey: 'secret/key+x',
    bucket: 'tiles',
    endpoint: origin.url,
    connections: 1,
  });
  try {
    const obj = await s3.get("videos/a b(1)'!.mp4", {
      signal: new AbortController().signal,
      range: { start: 5, end: 9 },
    });
    expect(obj?.status).toBe(206);
    if (obj) discard(obj.body);
    const req = origin.requests[0]!;
    expect(req.url).toBe('/tiles/videos/a%20b%281%29%27%21.mp4');
    expect(req.headers.range).toBe('bytes=5-9');
    expect(String(req.headers.authorization)).toContain('SignedHeaders=');
    expect(req.headers.authorization).toBe(
      expectedAuthorization('GET', req.url, req.headers, 'secret/key+x', 'auto'),
    );
    // A different secret would not match: the check is not vacuous.
    expect(req.headers.authorization).not.toBe(
      expectedAuthorization('GET', req.url, req.headers, 'other', 'auto'),
    );
  } finally {
    await s3.close();
  }
});
