// Replays the fixed session (sessionScript.ts) in one tab through the page's
// step API (sessionPage.ts). Engine-neutral: a Playwright or a puppeteer page
// both evaluate a string expression and await the promise it yields.
import { setTimeout as sleep } from 'node:timers/promises';
import { SESSION, type StepResult } from './sessionScript.js';

/** The part of a Playwright / puppeteer page the session needs. */
export interface Tab {
  goto(url: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
}

export type Viewer = 'osd' | 'leaflet';
/** Worker on the page: none, Workbox CacheFirst, ours, or bench/firefox's in-memory floor worker. */
export type SwMode = 'none' | 'workbox' | 'ours' | 'map';

/** A user's pause between two moves, the same for every path (the worker may prefetch in it). */
export const THINK_MS = 300;
/** Each step fails, naming what did not happen, after this long. */
export const STEP_DEADLINE_MS = 20_000;

/** Opens the session page in `tab` and waits for its worker to control it; throws when it does not. */
export async function openSessionPage(
  tab: Tab,
  base: string,
  viewer: Viewer,
  mode: SwMode,
  dataset: string,
): Promise<void> {
  await tab.goto(`${base}/session.html?viewer=${viewer}&sw=${mode}&ds=${dataset}`);
  if (!(await tab.evaluate('window.ready'))) throw new Error(`${mode}: the worker did not take control`);
  if (mode !== 'none' && !(await tab.evaluate('navigator.serviceWorker.controller !== null')))
    throw new Error(`${mode}: the page is not controlled`);
}

/** The open step (the viewer created at fit). */
export const openStep = (tab: Tab) =>
  (tab.evaluate(`window.sessionOpen(${STEP_DEADLINE_MS})`) as Promise<StepResult>).catch((e: unknown) => {
    throw new Error(`step 0 (open at fit): ${e instanceof Error ? e.message : String(e)}`);
  });

/** Step `i` (1..) of the session. */
export function sessionStep(tab: Tab, i: number): Promise<StepResult> {
  const s = SESSION[i];
  if (!s) throw new Error(`session has no step ${i}`);
  return (
    tab.evaluate(
      `window.sessionStep(${JSON.stringify(s.action)}, ${s.mark === true}, ${STEP_DEADLINE_MS})`,
    ) as Promise<StepResult>
  ).catch((e: unknown) => {
    throw new Error(`step ${i} (${s.label}): ${e instanceof Error ? e.message : String(e)}`);
  });
}

/**
 * Every step of the session in order, a THINK_MS pause after each;
 * `during(i)` (when given) runs alongside step `i` and is awaited with it.
 */
export async function replaySession(
  tab: Tab,
  during?: { step: number; run: () => Promise<void> },
): Promise<StepResult[]> {
  const out: StepResult[] = [await openStep(tab)];
  for (let i = 1; i < SESSION.length; i++) {
    await sleep(THINK_MS);
    if (during?.step === i) {
      const [r] = await Promise.all([sessionStep(tab, i), during.run()]);
      out.push(r);
    } else out.push(await sessionStep(tab, i));
  }
  return out;
}

/** The tiles the viewer showed (paths), and our worker's counters (null for any other page). */
export async function pageTally(
  tab: Tab,
): Promise<{ shown: string[]; stats: Record<string, number> | null; protocols: Record<string, number> }> {
  const shown = (await tab.evaluate('window.shownTiles()')) as string[];
  const stats = (await tab.evaluate('window.stats()')) as Record<string, number> | null;
  // The page's own tile requests (no worker: they are the tiles' network requests).
  const protocols = (await tab.evaluate(`(() => {
    const out = {};
    for (const e of performance.getEntriesByType('resource')) {
      if (!e.name.includes('/api/tiles/') || !e.nextHopProtocol) continue;
      out[e.nextHopProtocol] = (out[e.nextHopProtocol] ?? 0) + 1;
    }
    return out;
  })()`)) as Record<string, number>;
  return { shown, stats, protocols };
}
