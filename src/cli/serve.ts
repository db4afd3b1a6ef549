import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, EXIT, type ExitCode } from './errors.js';

/**
 * The server's entry point beside this file: `dist/server.js` when built,
 * `src/server.ts` (run through tsx) in a checkout.
 */
function serverEntry(): { args: string[] } {
  const built = fileURLToPath(new URL('../server.js', import.meta.url));
  if (existsSync(built)) return { args: [built] };
  const source = fileURLToPath(new URL('../server.ts', import.meta.url));
  if (existsSync(source)) return { args: ['--import', 'tsx', source] };
  throw new CliError('The Chorus server is not built.', EXIT.unsupported, 'Run `npm run build` first.');
}

/**
 * `serve`: runs the server in a child process with this environment (plus
 * HOST/PORT from the flags), passing signals on so Ctrl-C drains it cleanly.
 */
export function serve(flags: { host?: string; port?: string }): Promise<ExitCode> {
  const { args } = serverEntry();
  const env = { ...process.env };
  if (flags.host) env.HOST = flags.host;
  if (flags.port) env.PORT = flags.port;
  const child = spawn(process.execPath, args, { env, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve((code ?? 1) as ExitCode);
    });
  });
}
