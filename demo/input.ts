/** What the viewer does on user input; the handlers below only translate events. */
export interface ViewControls {
  pan(dx: number, dy: number): void;
  zoomAt(factor: number, sx: number, sy: number): void;
  zoomCentre(factor: number): void;
  fit(): void;
}

/** Drag to pan, wheel and pinch to zoom, keyboard (arrows, + / -, 0 to fit), double-click to zoom in. */
export function bindInput(el: HTMLElement, c: ViewControls): void {
  const pointers = new Map<number, { x: number; y: number }>();
  let pinch: { dist: number } | undefined;
  const local = (e: { clientX: number; clientY: number }) => {
    const r = el.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  el.addEventListener('pointerdown', (e) => {
    el.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    el.focus();
  });
  el.addEventListener('pointermove', (e) => {
    const prev = pointers.get(e.pointerId);
    if (!prev) return;
    const p = local(e);
    pointers.set(e.pointerId, p);
    if (pointers.size === 1) {
      c.pan(p.x - prev.x, p.y - prev.y);
      return;
    }
    const [a, b] = [...pointers.values()];
    const dist = Math.hypot(a!.x - b!.x, a!.y - b!.y);
    if (pinch && dist > 0) c.zoomAt(dist / pinch.dist, (a!.x + b!.x) / 2, (a!.y + b!.y) / 2);
    pinch = { dist };
  });
  const up = (e: PointerEvent) => {
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = undefined;
  };
  el.addEventListener('pointerup', up);
  el.addEventListener('pointercancel', up);
  el.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      // deltaMode 1 = lines (Firefox); trackpad pinch arrives as wheel + ctrlKey with small deltas.
      const dy = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY;
      const p = local(e);
      c.zoomAt(2 ** (-dy / (e.ctrlKey ? 100 : 400)), p.x, p.y);
    },
    { passive: false },
  );
  el.addEventListener('dblclick', (e) => {
    const p = local(e);
    c.zoomAt(e.shiftKey ? 0.5 : 2, p.x, p.y);
  });
  el.addEventListener('keydown', (e) => {
    const step = 120;
    const actions: Record<string, () => void> = {
      ArrowLeft: () => c.pan(step, 0),
      ArrowRight: () => c.pan(-step, 0),
      ArrowUp: () => c.pan(0, step),
      ArrowDown: () => c.pan(0, -step),
      '+': () => c.zoomCentre(2),
      '=': () => c.zoomCentre(2),
      '-': () => c.zoomCentre(0.5),
      _: () => c.zoomCentre(0.5),
      '0': () => c.fit(),
    };
    const act = actions[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  });
}
