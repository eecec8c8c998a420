// Chromium's CPU time during a measurement, from /proc (Linux).
import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU time (user + system, ms) of the Chromium processes this bench process
 * launched (its descendants named chrom*), from /proc (Linux; 0 elsewhere):
 * other Chromiums on the machine are not counted, nor the server or origin.
 */
export async function browserCpuMs(): Promise<number> {
  const rootPid = process.pid;
  const procs = new Map<number, { ppid: number; ms: number; chrome: boolean }>();
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const d of pids) {
    try {
      const st = await readFile(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // Fields after the name: state ppid ... utime(12th) stime(13th), in clock ticks (100 Hz on Linux).
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      procs.set(Number(d), {
        ppid: Number(f[1]),
        ms: (Number(f[11]) + Number(f[12])) * 10,
        chrome: name.startsWith('chrom'),
      });
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  const stack = [rootPid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = procs.get(pid);
    if (p?.chrome) total += p.ms;
    for (const [child, p] of procs) if (p.ppid === pid) stack.push(child);
  }
  return total;
}
