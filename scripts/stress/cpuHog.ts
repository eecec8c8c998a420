// A bounded CPU hog for the stress runner: N busy Node child processes pinned
// to one core (with `taskset` where it exists), so the suites run on a machine
// that has lost a core to someone else, the load a shared CI box sees.
//
// Every hog stops by itself: it spins until its own deadline and exits, and it
// exits as soon as its IPC channel to the runner closes (the runner exited,
// crashed or was killed with SIGKILL), so a hog can never outlive the run.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

export interface CpuHogOptions {
  /** Busy processes to start (the issue asks for two). */
  readonly processes: number;
  /** Each process exits after this many milliseconds whatever happens. */
  readonly boundMs: number;
  /** The core they are pinned to (ignored without `taskset`). */
  readonly cpu: number;
}

export interface CpuHog {
  readonly pids: readonly number[];
  /** Whether the processes were pinned to one core (`taskset` found). */
  readonly pinned: boolean;
  stop(): void;
}

// Spins in 50 ms slices so the event loop sees the 'disconnect' of the IPC
// channel between slices (the runner is gone: stop at once).
const HOG_SOURCE = `
const end = Date.now() + Number(process.argv[1]);
process.on('disconnect', () => process.exit(0));
function spin() {
  const slice = Date.now() + 50;
  while (Date.now() < slice) {}
  if (Date.now() >= end) process.exit(0);
  setImmediate(spin);
}
spin();
`;

function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function startCpuHog(options: CpuHogOptions): CpuHog {
  const pinned = hasTaskset();
  const children: ChildProcess[] = [];
  for (let i = 0; i < options.processes; i++) {
    const nodeArgs = ['-e', HOG_SOURCE, String(options.boundMs)];
    const [command, args] = pinned
      ? ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const child = spawn(command as string, args as string[], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // The hog never talks: the channel only tells it when the runner is gone.
    child.unref();
    child.channel?.unref();
    children.push(child);
  }
  return {
    pids: children.map((c) => c.pid ?? -1),
    pinned,
    stop() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}
