import { createColors } from 'picocolors';

/** Where the CLI writes and how: progress on stderr, results on stdout. */
export interface Terminal {
  /** Both streams are terminals a person is looking at: a live progress display. */
  interactive: boolean;
  colors: ReturnType<typeof createColors>;
  out(text: string): void;
  err(text: string): void;
}

/** A terminal from the process: interactive on a TTY (not `TERM=dumb`, not CI), colours unless NO_COLOR. */
export function processTerminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const interactive =
    Boolean(process.stdout.isTTY && process.stderr.isTTY) && env.TERM !== 'dumb' && !('CI' in env);
  const colored = !env.NO_COLOR && (interactive || Boolean(env.FORCE_COLOR && env.FORCE_COLOR !== '0'));
  return {
    interactive,
    colors: createColors(colored),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A status line: on an interactive terminal one line on stderr, redrawn in
 * place with a spinner (lines printed above it stay); on a pipe nothing but
 * the lines themselves.
 */
export class StatusLine {
  private text: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly terminal: Terminal) {}

  private draw(): void {
    if (this.text === undefined) return;
    // A terminal that reports no width (0) still gets one line, cut at 80 columns.
    const width = Math.max(20, (process.stderr.columns || 80) - 3);
    const frame = this.terminal.colors.cyan(FRAMES[this.frame++ % FRAMES.length]!);
    this.terminal.err(`\r\x1b[2K${frame} ${this.text.slice(0, width)}`);
  }

  private erase(): void {
    if (this.text !== undefined) this.terminal.err('\r\x1b[2K');
  }

  update(text: string): void {
    if (!this.terminal.interactive) return;
    this.text = text;
    if (!this.timer) {
      this.terminal.err('\x1b[?25l');
      this.timer = setInterval(() => this.draw(), 80);
      this.timer.unref();
    }
    this.draw();
  }

  /** A line of progress that stays. */
  line(text: string): void {
    this.erase();
    this.terminal.err(`${text}\n`);
    this.draw();
  }

  /** Removes the spinner (before the answer streams to stdout). */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.erase();
    this.text = undefined;
    this.terminal.err('\x1b[?25h');
  }
}
