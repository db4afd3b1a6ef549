import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type { AnalysisRecord } from '../analyses/record.js';
import { type AskBody, ask } from './ask.js';
import { ChorusClient, clientSettings, DEFAULT_URL } from './client.js';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './errors.js';
import { formatList, formatModels, formatPatterns, formatRecord } from './format.js';
import { serve } from './serve.js';
import { processTerminal, type Terminal } from './terminal.js';

const commaList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `-o temperature=0.2 -o cache=false`: numbers and booleans as such, the rest as strings. */
function optionPair(pair: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const equals = pair.indexOf('=');
  if (equals <= 0)
    throw new CliError(
      `--option takes key=value, not "${pair}".`,
      EXIT.usage,
      'For example: -o temperature=0.2',
    );
  const raw = pair.slice(equals + 1);
  const value =
    raw === 'true'
      ? true
      : raw === 'false'
        ? false
        : raw !== '' && Number.isFinite(Number(raw))
          ? Number(raw)
          : raw;
  return { ...previous, [pair.slice(0, equals)]: value };
}

function parseJsonFlag(flag: string, text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // explained below
  }
  throw new CliError(`${flag} must be a JSON object, like '{"temperature":0.2}'.`, EXIT.usage);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

interface AskFlags {
  pattern?: string;
  models?: string[];
  synthesisModel?: string;
  system?: string;
  option?: Record<string, unknown>;
  options?: string;
  continue?: string;
  json: boolean;
  quiet: boolean;
}

async function askBody(words: string[], flags: AskFlags): Promise<AskBody> {
  const prompt =
    words.length === 0 || (words.length === 1 && words[0] === '-') ? await readStdin() : words.join(' ');
  if (prompt.length === 0)
    throw new CliError(
      'The question is empty.',
      EXIT.usage,
      'chorus ask "your question" (or pipe it in with -)',
    );
  const options = { ...(flags.options ? parseJsonFlag('--options', flags.options) : {}), ...flags.option };
  return {
    prompt,
    ...(flags.pattern ? { pattern: flags.pattern } : {}),
    ...(flags.models ? { models: flags.models } : {}),
    ...(flags.synthesisModel ? { synthesisModel: flags.synthesisModel } : {}),
    ...(flags.system ? { system: flags.system } : {}),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(flags.continue ? { continueFrom: flags.continue } : {}),
  };
}

/** The program: every command answers an exit code; failures are CliErrors. */
function program(terminal: Terminal, run: (code: ExitCode) => void): Command {
  const cli = new Command('chorus')
    .description('Ask several language models at once through a Chorus service, and manage its analyses.')
    .addOption(new Option('--url <url>', `the Chorus service (default ${DEFAULT_URL})`).env('CHORUS_URL'))
    .addHelpText(
      'after',
      `\nEnvironment:\n  CHORUS_URL      where Chorus runs (default ${DEFAULT_URL})\n  CHORUS_API_KEY  the bearer key, when the server sets API_KEYS\n${EXIT_CODES_HELP}`,
    )
    .showHelpAfterError('(chorus --help lists the commands and flags)')
    .exitOverride();
  const client = () =>
    new ChorusClient(
      clientSettings({ ...process.env, CHORUS_URL: cli.opts().url ?? process.env.CHORUS_URL }),
    );
  const print = (value: unknown, json: boolean, human: () => string) =>
    terminal.out(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
  const withBody = (command: Command) =>
    command
      .argument('[question...]', 'the question (or - to read it from stdin)')
      .option('-p, --pattern <name>', 'analysis pattern (chorus patterns lists them; default standard)')
      .option('-m, --models <ids>', 'comma-separated model ids (chorus models lists them)', commaList)
      .option('-s, --synthesis-model <id>', 'model for the single-model stages')
      .option('--system <text>', 'system prompt sent with every model call')
      .option(
        '-o, --option <key=value>',
        'an analysis option (temperature, maxTokens, timeoutMs, cache, minResponses, maxCostUsd); repeatable',
        optionPair,
      )
      .option('--options <json>', 'analysis options as a JSON object')
      .option('-c, --continue <id>', 'a follow-up to this earlier analysis (sends continueFrom)');

  withBody(cli.command('ask'))
    .description("start an analysis and stream every model's progress and the answer live")
    .option('--json', 'print only the final record as JSON', false)
    .option('-q, --quiet', 'print only the answer (no progress)', false)
    .action(async (words: string[], flags: AskFlags) => {
      run(await ask(client(), terminal, await askBody(words, flags), flags));
    });

  withBody(cli.command('estimate'))
    .description('estimate what an analysis would cost, without running it (POST /v1/analyses/estimate)')
    .action(async (words: string[], flags: AskFlags) => {
      const body = await askBody(words, flags);
      try {
        terminal.out(`${JSON.stringify(await client().post('/v1/analyses/estimate', body), null, 2)}\n`);
      } catch (error) {
        if (error instanceof CliError && (error.status === 404 || error.status === 405))
          throw new CliError(
            'This Chorus does not offer estimates (POST /v1/analyses/estimate).',
            EXIT.unsupported,
            'Upgrade the server, or run `chorus ask` with -o maxCostUsd=<usd> to cap the cost.',
          );
        throw error;
      }
      run(EXIT.ok);
    });

  cli
    .command('list')
    .description('your analyses, newest first')
    .option('--status <status>', 'only queued, running, succeeded, failed or cancelled')
    .option('-p, --pattern <name>', 'only analyses of this pattern')
    .option('-n, --limit <n>', 'how many (1–100)', '20')
    .option('--cursor <cursor>', 'the next page (as printed)')
    .option('--json', 'print the answer as JSON', false)
    .action(
      async (flags: { status?: string; pattern?: string; limit: string; cursor?: string; json: boolean }) => {
        const query = new URLSearchParams({ limit: flags.limit });
        for (const key of ['status', 'pattern', 'cursor'] as const)
          if (flags[key]) query.set(key, flags[key]);
        const page = await client().get<{ data: []; nextCursor: string | null }>(`/v1/analyses?${query}`);
        print(page, flags.json, () => formatList(page.data, page.nextCursor));
        run(EXIT.ok);
      },
    );

  cli
    .command('show <id>')
    .description('one analysis: every stage, every response, the answer')
    .option('--json', 'print the record as JSON', false)
    .action(async (id: string, flags: { json: boolean }) => {
      const record = await client().get<AnalysisRecord>(`/v1/analyses/${encodeURIComponent(id)}`);
      print(record, flags.json, () => formatRecord(record));
      run(EXIT.ok);
    });

  cli
    .command('cancel <id>')
    .description('cancel a queued or running analysis')
    .action(async (id: string) => {
      const record = await client().post<AnalysisRecord>(`/v1/analyses/${encodeURIComponent(id)}/cancel`);
      terminal.out(`${record.id} ${record.status}\n`);
      run(EXIT.ok);
    });

  cli
    .command('models')
    .description('the configured models, their availability and circuit state')
    .option('--json', 'print the answer as JSON', false)
    .action(async (flags: { json: boolean }) => {
      const answer = await client().get<{ data: [] }>('/v1/models');
      print(answer, flags.json, () => formatModels(answer.data));
      run(EXIT.ok);
    });

  cli
    .command('patterns')
    .description('the analysis patterns (built-in and your own)')
    .option('--json', 'print the answer as JSON', false)
    .action(async (flags: { json: boolean }) => {
      const answer = await client().get<{ data: [] }>('/v1/patterns?limit=100');
      print(answer, flags.json, () => formatPatterns(answer.data));
      run(EXIT.ok);
    });

  cli
    .command('serve')
    .description('run the Chorus server here (configured by the environment, see README)')
    .option('--host <host>', 'listen on this address (HOST)')
    .option('--port <port>', 'listen on this port (PORT)')
    .action(async (flags: { host?: string; port?: string }) => {
      run(await serve(flags));
    });
  return cli;
}

/** Runs the CLI with these arguments; answers the exit status (tests call it in-process too). */
export async function main(argv: string[], terminal: Terminal = processTerminal()): Promise<number> {
  let code: number = EXIT.ok;
  const cli = program(terminal, (exit) => {
    code = exit;
  });
  cli.configureOutput({ writeOut: terminal.out, writeErr: terminal.err });
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      const { colors: c } = terminal;
      terminal.err(`${c.red('chorus:')} ${error.message}\n`);
      for (const detail of error.details) terminal.err(`  ${detail}\n`);
      if (error.hint) terminal.err(`${c.dim(error.hint)}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`chorus: unexpected failure: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 70;
    },
  );
}
