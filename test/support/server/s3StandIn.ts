import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in does with one request instead of serving it; undefined serves it. */
export type Fault = number | 'reset' | 'hang' | undefined;

export interface StandInRequest {
  method: string;
  key: string;
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Checks AWS Signature V4 independently of aws4fetch (the canonical request
 * rebuilt from the received request, per the AWS SigV4 documentation). Returns
 * an error string, or null when the signature is valid.
 */
function verifySigV4(req: IncomingMessage, body: Buffer, accessKeyId: string, secret: string): string | null {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'malformed Authorization';
  const [, akid, date, region, signedHeaders, signature] = m as unknown as string[];
  if (akid !== accessKeyId) return 'unknown access key';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) return 'x-amz-date does not match the credential scope';
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(body)) return 'payload hash mismatch';
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const url = new URL(req.url ?? '/', 'http://x');
  const canonicalHeaders = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const query = [...url.searchParams]
    .sort()
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const canonical = [
    req.method,
    url.pathname,
    query.join('&'),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), 's3'), 'aws4_request');
  return hmac(kSigning, toSign).toString('hex') === signature ? null : 'signature mismatch';
}

/**
 * A tiny S3 for tests: path-style HEAD and PUT on 127.0.0.1:0, signatures
 * verified, objects kept in memory with MD5 ETags, every request recorded,
 * and `fault` deciding per request to answer a status, reset or hang.
 */
export class S3StandIn {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  readonly requests: StandInRequest[] = [];
  readonly rejectedSignatures: string[] = [];
  fault: (r: StandInRequest) => Fault = () => undefined;
  #server: Server | undefined;
  #sockets = new Set<import('node:net').Socket>();

  constructor(
    readonly bucket: string,
    readonly accessKeyId: string,
    readonly secret: string,
  ) {}

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  count(method: string): number {
    return this.requests.filter((r) => r.method === method).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').slice(1);
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    const r = { method: req.method ?? '', key };
    this.requests.push(r);
    const bad = verifySigV4(req, body, this.accessKeyId, this.secret);
    if (bad) {
      this.rejectedSignatures.push(bad);
      res
        .writeHead(403, { 'content-type': 'application/xml' })
        .end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
      return;
    }
    if (parts[0] !== this.bucket) {
      res.writeHead(404).end();
      return;
    }
    const f = this.fault(r);
    if (f === 'reset') {
      req.socket.destroy();
      return;
    }
    if (f === 'hang') return;
    if (typeof f === 'number') {
      res.writeHead(f, f === 503 ? { 'retry-after': '0' } : {}).end();
      return;
    }
    if (req.method === 'PUT') {
      this.objects.set(key, { body, contentType: String(req.headers['content-type'] ?? '') });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
      return;
    }
    if (req.method === 'HEAD') {
      const o = this.objects.get(key);
      if (!o) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, {
          'content-length': o.body.byteLength,
          etag: `"${createHash('md5').update(o.body).digest('hex')}"`,
        })
        .end();
      return;
    }
    res.writeHead(405).end();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
