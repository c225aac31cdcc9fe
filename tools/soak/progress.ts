/**
 * Progress of a timed run: a bar redrawn in place on a terminal, a plain
 * line every `plainEverySec` seconds otherwise (CI logs, pipes).
 */
export class Progress {
  private lastPlain = -Infinity;
  private drawn = false;

  constructor(private readonly totalSec: number, private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly plainEverySec = 10) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(elapsedSec: number, text: string): void {
    if (this.tty) {
      const width = 24;
      const done = Math.max(0, Math.min(width, Math.round((elapsedSec / this.totalSec) * width)));
      const bar = '#'.repeat(done) + '-'.repeat(width - done);
      const line = `[${bar}] ${Math.min(elapsedSec, this.totalSec).toFixed(0)}/${this.totalSec} s  ${text}`;
      const cols = this.out.columns ?? 120;
      this.out.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 4))}`);
      this.drawn = true;
    } else if (elapsedSec - this.lastPlain >= this.plainEverySec) {
      this.lastPlain = elapsedSec;
      this.out.write(`soak ${elapsedSec.toFixed(0)}/${this.totalSec} s: ${text}\n`);
    }
  }

  /** A line of its own (ends the bar's line first). */
  note(text: string): void {
    this.end();
    this.out.write(text + '\n');
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
