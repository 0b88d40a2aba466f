import { type CliStream } from './output';

/**
 * One self-overwriting status line on a terminal; nothing at all when the stream is not a TTY
 * (a CI log or a pipe gets the final summary only, not hundreds of carriage returns).
 */
export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: CliStream) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.enabled) return;
    const width = this.stream.columns ?? 0;
    const fitted = width > 1 && text.length >= width ? `${text.slice(0, width - 2)}…` : text;
    this.stream.write(`\r${fitted}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line so the next output starts on a clean one. */
  done(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `75` → `1m15s`, for "indexing … (1m15s)". */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
