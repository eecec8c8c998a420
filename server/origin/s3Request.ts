import { AwsV4Signer } from 'aws4fetch';
import { TileError } from '../../src/protocol/errors.js';
import { encodeKey } from './pooledGet.js';

/** Where and as whom: S3_ENDPOINT_URL, AWS_BUCKET_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION. */
export interface S3Target {
  /** e.g. https://<account>.r2.cloudflarestorage.com; may carry a path prefix. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** R2 signs with 'auto' (the default). */
  region?: string;
}

/** The endpoint as a URL, or BAD_CONFIG naming the variable. */
export function s3EndpointUrl(endpoint: string): URL {
  try {
    return new URL(endpoint);
  } catch (e) {
    throw new TileError('BAD_CONFIG', 'S3_ENDPOINT_URL is not a URL', { value: endpoint }, { cause: e });
  }
}

/** Path-style `/<prefix>/<bucket>/<key>`: R2 and most S3-compatible stores have no virtual-host buckets. */
export function s3ObjectPath(base: URL, bucket: string, key: string): string {
  return `${base.pathname.replace(/\/+$/, '')}/${encodeKey(bucket)}/${encodeKey(key)}`;
}

/**
 * SigV4 headers for one request (aws4fetch's AwsV4Signer), without `host`:
 * the undici Pool sets it from its own origin, and a second one would be a
 * malformed request.
 */
export async function signS3(
  t: S3Target,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const signer = new AwsV4Signer({
    url: base.origin + path,
    method,
    headers,
    accessKeyId: t.accessKeyId,
    secretAccessKey: t.secretAccessKey,
    service: 's3',
    region: t.region ?? 'auto',
  });
  const out: Record<string, string> = {};
  (await signer.sign()).headers.forEach((v, k) => {
    if (k !== 'host') out[k] = v;
  });
  return out;
}
