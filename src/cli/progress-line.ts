// One status line on stderr: redrawn in place on a terminal, a plain line at most every few seconds otherwise
// (logs and CI keep a readable trace instead of thousands of carriage returns).
import type { JobProgress } from './follow-job.js';

const BAR_WIDTH = 24;
const PLAIN_EVERY_MS = 2000;

export function renderProgress(p: JobProgress): string {
  if (p.status === 'queued') return 'queued, waiting for a worker';
  const fraction = p.epochs > 0 ? Math.min(1, p.epoch / p.epochs) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const parts = [
    `${p.status} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.epoch}/${p.epochs || '?'}`,
    p.loss !== null ? `loss ${formatNumber(p.loss)}` : '',
    p.valLoss !== null ? `val ${formatNumber(p.valLoss)}` : '',
    p.accuracy !== null ? `acc ${(p.accuracy * 100).toFixed(1)}%` : '',
    p.valAccuracy !== null ? `val acc ${(p.valAccuracy * 100).toFixed(1)}%` : '',
    p.etaSeconds !== null && p.status === 'running' ? `eta ${formatDuration(p.etaSeconds)}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

export const formatNumber = (x: number) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(2));

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressLine {
  /** What the terminal shows (TTY), or the latest line not yet written (plain). */
  private line = '';
  private written = '';
  private lastStatus = '';
  private lastWrittenAt = -Infinity;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(progress: JobProgress): void {
    this.show(renderProgress(progress), progress.status);
  }

  /** Shows `line`; a plain stream writes it when `status` changed or every few seconds. */
  show(line: string, status: string): void {
    if (this.stream.isTTY) {
      const width = (this.stream.columns || 120) - 1;
      // Pad over the previous line's tail: \r only moves the cursor.
      if (line !== this.line) this.stream.write(`\r${line.slice(0, width).padEnd(Math.min(this.line.length, width))}`);
      this.line = line;
      return;
    }
    this.line = line;
    const now = performance.now();
    if (status !== this.lastStatus || now - this.lastWrittenAt >= PLAIN_EVERY_MS) this.flushPlain(now);
    this.lastStatus = status;
  }

  /** Ends the progress display, so what follows starts on a fresh line (plain output gets its last figures). */
  done(): void {
    if (this.stream.isTTY) {
      if (this.line) this.stream.write('\n');
    } else {
      this.flushPlain(performance.now());
    }
    this.line = '';
  }

  private flushPlain(now: number): void {
    if (!this.line || this.line === this.written) return;
    this.stream.write(`${this.line}\n`);
    this.written = this.line;
    this.lastWrittenAt = now;
  }
}
