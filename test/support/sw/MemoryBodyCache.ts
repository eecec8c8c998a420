import type { BodyCache } from '../../../src/sw/PersistentTier.js';

/** In-memory Cache Storage stand-in for Node tests; can refuse writes past a byte quota. */
export class MemoryBodyCache implements BodyCache {
  readonly bodies = new Map<string, { bytes: Uint8Array; headers: [string, string][] }>();
  constructor(public quota = Number.POSITIVE_INFINITY) {}

  used(): number {
    let n = 0;
    for (const b of this.bodies.values()) n += b.bytes.byteLength;
    return n;
  }

  async match(url: string): Promise<Response | undefined> {
    const b = this.bodies.get(url);
    return b ? new Response(b.bytes.slice() as Uint8Array<ArrayBuffer>, { headers: b.headers }) : undefined;
  }

  async put(url: string, r: Response): Promise<void> {
    const bytes = new Uint8Array(await r.arrayBuffer());
    const old = this.bodies.get(url)?.bytes.byteLength ?? 0;
    if (this.used() - old + bytes.byteLength > this.quota)
      throw new DOMException('full', 'QuotaExceededError');
    this.bodies.set(url, { bytes, headers: [...r.headers] });
  }

  async delete(url: string): Promise<boolean> {
    return this.bodies.delete(url);
  }
}
