import { link, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Writes `files` (bench/sw's tiles: 12 JPEGs reused over thousands of keys)
 * for the mocked origin, each distinct byte array once and every other key a
 * hard link to it: the same tiles as the Chromium section, 12 files on disk.
 */
export async function writeLinkedTree(files: Record<string, Uint8Array>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'tile-ff-bench-origin-'));
  const first = new Map<Uint8Array, string>();
  for (const [key, bytes] of Object.entries(files)) {
    const file = path.join(root, key);
    await mkdir(path.dirname(file), { recursive: true });
    const seen = first.get(bytes);
    if (seen) await link(seen, file);
    else {
      await writeFile(file, bytes);
      first.set(bytes, file);
    }
  }
  return root;
}
