/**
 * What the CLI's exit status means, so scripts can tell the cases apart:
 * every failure also prints one line saying what went wrong and how to fix it.
 */
export const EXIT = {
  ok: 0,
  /** The analysis ran and ended `failed` or `cancelled`. */
  analysisFailed: 1,
  /** The command line itself is wrong (unknown flag, bad JSON in --options, …). */
  usage: 2,
  /** Chorus could not be reached at CHORUS_URL. */
  unreachable: 3,
  /** Chorus refused the request (4xx): the message says why. */
  refused: 4,
  /** Chorus failed to answer (5xx). */
  serverError: 5,
  /** A command the service does not offer (yet). */
  unsupported: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI explains in one line (plus an optional hint) and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
    readonly details: string[] = [],
    /** The HTTP status of a refusal. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  done (for ask: the analysis succeeded)
  1  the analysis failed or was cancelled
  2  wrong command line (unknown flag, bad JSON)
  3  Chorus is not reachable at CHORUS_URL
  4  Chorus refused the request (the message says why)
  5  Chorus failed to answer (a 5xx)
  6  the service does not offer this command yet`;
