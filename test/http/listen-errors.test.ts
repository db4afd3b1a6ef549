import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runServer } from '../support/server-process.js';

describe('a port that cannot be had is one line naming PORT', () => {
  let taken: Server;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
  });
  afterAll(async () => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('a busy port: exit 1 and one line, no stack trace', async () => {
    const exit = await runServer({ PORT: String(port) });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toBe(
      `chorus: PORT ${port} on 127.0.0.1 is already in use: stop what listens there, or set PORT to a free port.\n`,
    );
  });

  it('a HOST that is not this machine’s: one line naming HOST', async () => {
    const exit = await runServer({ PORT: '0', HOST: '192.0.2.1' });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      /^chorus: HOST 192\.0\.2\.1 is not an address of this machine: set HOST to one/,
    );
    expect(exit.stderr.trim().split('\n')).toHaveLength(1);
  });
});
