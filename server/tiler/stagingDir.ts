import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

const STAGING_RE = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

/** A hidden sibling of the final directory, named with our pid so leftovers of dead processes can be found. */
export async function makeStagingDir(finalDir: string): Promise<string> {
  const dir = path.join(
    path.dirname(finalDir),
    `.${path.basename(finalDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Moves a complete staging directory into place. rename(2) cannot replace a
 * non-empty directory, so an existing one is first renamed aside, then
 * removed: at every instant `finalDir` is the old complete tree, the new
 * complete tree, or absent, never a mix.
 */
export async function publishStagingDir(stagingDir: string, finalDir: string): Promise<void> {
  const aside = path.join(
    path.dirname(finalDir),
    `.${path.basename(finalDir)}.old-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let movedAside = false;
  try {
    await rename(finalDir, aside);
    movedAside = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    await rename(stagingDir, finalDir);
  } catch (e) {
    // Put the old tree back rather than leave no dataset at all.
    if (movedAside) await rename(aside, finalDir).catch(() => {});
    throw e;
  }
  if (movedAside) await rm(aside, { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging leftovers for `finalDir` whose owning process is gone (a crash mid-build). */
export async function removeStaleStagingDirs(finalDir: string): Promise<string[]> {
  const parent = path.dirname(finalDir);
  const base = path.basename(finalDir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = STAGING_RE.exec(name);
    if (!m || m[1] !== base || isAlive(Number(m[3]))) continue;
    await rm(path.join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
