import type { AnalysisRecord } from '../analyses/record.js';
import type { ChorusClient } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { analysisEvents, type StreamEvent } from './events.js';
import { formatRanking, formatUsage } from './format.js';
import { StatusLine, type Terminal } from './terminal.js';

/** The body of `POST /v1/analyses` the flags of `ask` build. */
export interface AskBody {
  prompt: string;
  pattern?: string;
  models?: string[];
  synthesisModel?: string;
  system?: string;
  options?: Record<string, unknown>;
  continueFrom?: string;
}

interface PatternView {
  stages: Array<{ name: string }>;
}

const ms = (value: unknown) => (typeof value === 'number' ? `${value} ms` : '');

/**
 * Follows one analysis live: progress lines (a spinner on a terminal), the
 * last stage's text streamed to stdout as it arrives, then the ranking and
 * what it cost. Answers the final record.
 */
class LiveView {
  private readonly status: StatusLine;
  private answering: string | undefined;
  private streamed = '';

  constructor(
    private readonly terminal: Terminal,
    private readonly finalStage: string | undefined,
    private readonly quiet: boolean,
  ) {
    this.status = new StatusLine(terminal);
  }

  private say(text: string): void {
    if (!this.quiet) this.status.line(text);
  }

  handle(event: StreamEvent): void {
    const { colors: c } = this.terminal;
    const d = event.data;
    switch (event.type) {
      case 'analysis.queued':
        this.status.update('queued');
        break;
      case 'analysis.started':
        this.say(
          `${c.bold('analysis')} ${d.analysisId} · ${d.pattern} · ${(d.models as string[]).join(', ')}`,
        );
        break;
      case 'stage.started':
        this.say(`${c.cyan('▸')} stage ${c.bold(String(d.stage))} (${(d.models as string[]).join(', ')})`);
        this.status.update(`${d.stage}: waiting for ${(d.models as string[]).length} model(s)`);
        break;
      case 'progress':
        this.status.update(`${Math.round(Number(d.progress) * 100)}% ${d.message}`);
        break;
      case 'model.delta':
        if (d.stage === this.finalStage) this.answerDelta(String(d.model), String(d.text));
        break;
      case 'model.completed':
        if (d.stage !== this.finalStage)
          this.say(
            `  ${c.green('✔')} ${d.stage} · ${d.model} ${c.dim(`${ms(d.latencyMs)}${d.cached ? ', cached' : ''}`)}`,
          );
        break;
      case 'model.failed': {
        const error = d.error as { code: string; message: string };
        if (d.stage === this.finalStage && this.answering === d.model) this.restartAnswer();
        this.say(
          `  ${c.red('✖')} ${d.stage} · ${d.model} ${error.code}: ${error.message}${d.willRetry ? c.dim(' (retrying)') : ''}`,
        );
        break;
      }
      default:
        break;
    }
  }

  private answerDelta(model: string, text: string): void {
    if (this.answering === undefined) {
      this.status.stop();
      if (this.terminal.interactive)
        this.terminal.out(`\n${this.terminal.colors.bold(`Answer · ${model}`)}\n\n`);
      this.answering = model;
    }
    this.streamed += text;
    this.terminal.out(text);
  }

  /** The model writing the answer failed after some text: say so; the next one starts over. */
  private restartAnswer(): void {
    if (this.streamed.length > 0) this.terminal.out('\n');
    this.terminal.err(this.terminal.colors.yellow('[the answer above was cut off; it starts again]\n'));
    this.answering = undefined;
    this.streamed = '';
  }

  finish(record: AnalysisRecord): void {
    this.status.stop();
    const { colors: c } = this.terminal;
    if (record.status === 'succeeded' && record.result) {
      if (this.streamed.length === 0) {
        if (this.terminal.interactive)
          this.terminal.out(`\n${c.bold(`Answer · ${record.result.model}`)}\n\n`);
        this.terminal.out(record.result.text);
      }
      this.terminal.out('\n');
      if (record.result.ranking && record.result.ranking.length > 0) {
        this.terminal.out(`\n${c.bold('Ranking')}\n${formatRanking(record.result.ranking)}\n`);
      }
    }
    if (this.quiet) return;
    const verdict =
      record.status === 'succeeded'
        ? c.green('succeeded')
        : c.red(`${record.status}${record.error ? `: ${record.error.code}: ${record.error.message}` : ''}`);
    this.terminal.err(`${c.dim('──')} ${record.id} ${verdict} · ${formatUsage(record.usage)}\n`);
    for (const warning of record.warnings) this.terminal.err(`${c.yellow('warning:')} ${warning}\n`);
  }
}

/** `ask`: starts an analysis and follows it to its end; `json` prints only the final record. */
export async function ask(
  client: ChorusClient,
  terminal: Terminal,
  body: AskBody,
  flags: { json: boolean; quiet: boolean },
): Promise<ExitCode> {
  const accepted = await client.post<AnalysisRecord>('/v1/analyses', body);
  let finalStage: string | undefined;
  try {
    const pattern = await client.get<PatternView>(`/v1/patterns/${encodeURIComponent(accepted.pattern)}`);
    finalStage = pattern.stages.at(-1)?.name;
  } catch {
    finalStage = undefined; // the answer is then printed whole at the end
  }
  const view = flags.json ? undefined : new LiveView(terminal, finalStage, flags.quiet);
  for await (const event of analysisEvents(client, accepted.links.events)) view?.handle(event);
  // The record as the service keeps it (a failed or cancelled analysis's terminal event carries none).
  const record = await client.get<AnalysisRecord>(accepted.links.self);
  if (flags.json) terminal.out(`${JSON.stringify(record, null, 2)}\n`);
  else view?.finish(record);
  if (record.status === 'succeeded') return EXIT.ok;
  if (record.status === 'failed' || record.status === 'cancelled') return EXIT.analysisFailed;
  throw new CliError(`The stream ended while the analysis is ${record.status}.`, EXIT.serverError);
}
