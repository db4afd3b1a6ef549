/** The problem+json body (RFC 9457) the service answers errors with, as the tests read it. */
export type { ProblemBody as Problem } from '../../src/http/problem.js';
