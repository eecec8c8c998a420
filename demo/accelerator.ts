/** The part of the page API (src/client) the demo uses. */
export interface DemoAccelerator {
  stats(): Promise<unknown>;
}

const KEY = 'tile-accelerator';

/** The switch in the panel: stored per browser, `?sw=off` overrides it for one load. */
export function acceleratorWanted(params: URLSearchParams): boolean {
  const q = params.get('sw');
  if (q === 'off' || q === 'on') return q === 'on';
  return localStorage.getItem(KEY) !== 'off';
}

/**
 * Registers the service worker through registerTileAccelerator (src/client).
 * Resolves undefined when the browser has no service workers or registration
 * fails: the demo then loads tiles straight from the server.
 */
export async function startAccelerator(timeoutMs = 6000): Promise<{ acc?: DemoAccelerator; note: string }> {
  if (!('serviceWorker' in navigator)) return { note: 'unsupported in this browser' };
  try {
    const { registerTileAccelerator } = await import('../src/client/index.js');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const acc = await Promise.race([
      registerTileAccelerator({ swUrl: '/tile-sw.js', controlTimeoutMs: 4000 }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('registration timed out')), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return {
      acc,
      note: navigator.serviceWorker.controller ? 'on (controlling this page)' : 'on (installing)',
    };
  } catch (e) {
    return { note: `failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Turns the accelerator off or on and reloads (a page's controller only changes on navigation). */
export async function setAccelerator(on: boolean): Promise<void> {
  localStorage.setItem(KEY, on ? 'on' : 'off');
  if (!on && 'serviceWorker' in navigator) {
    const regs = await navigator.serviceWorker.getRegistrations();
    await Promise.all(regs.map((r) => r.unregister()));
  }
  location.reload();
}
