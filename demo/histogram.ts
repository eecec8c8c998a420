const EDGES = [5, 10, 20, 50, 100, 200, 500, Number.POSITIVE_INFINITY];
const LABELS = ['<5', '<10', '<20', '<50', '<100', '<200', '<500', '≥500'];

/** Tile fetch latency (ms) in fixed buckets, drawn as bars on a small canvas. */
export class LatencyHistogram {
  readonly counts = new Array<number>(EDGES.length).fill(0);
  readonly samples: number[] = [];

  add(ms: number): void {
    this.counts[EDGES.findIndex((e) => ms < e)]!++;
    this.samples.push(ms);
    if (this.samples.length > 2000) this.samples.splice(0, 1000);
  }

  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  }

  draw(canvas: HTMLCanvasElement): void {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const { width: W, height: H } = canvas;
    ctx.clearRect(0, 0, W, H);
    const max = Math.max(1, ...this.counts);
    const bw = W / this.counts.length;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    this.counts.forEach((c, i) => {
      const bh = ((H - 26) * c) / max;
      ctx.fillStyle = '#4f9cf9';
      ctx.fillRect(i * bw + 2, H - 14 - bh, bw - 4, bh);
      ctx.fillStyle = '#9aa4b2';
      ctx.fillText(LABELS[i]!, i * bw + bw / 2, H - 2);
      if (c > 0) ctx.fillText(String(c), i * bw + bw / 2, H - 17 - bh);
    });
  }
}
