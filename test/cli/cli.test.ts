import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SIM, json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { ANSI, runCli, runCliOnTty } from '../support/cli.js';

describe.each(STORES)('the chorus command against a running service ($name)', (store) => {
  let service: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    service = await startApp({
      env: store.env,
      providers: [
        simProvider([
          ...FAST_SIM.models,
          simModel('broken', { latencyMs: 4, failureRate: 1 }),
          simModel('slow', { latencyMs: 20_000 }),
        ]),
      ],
    });
    env = { CHORUS_URL: service.url };
  });
  afterAll(async () => service.close());

  it('ask, piped: progress lines on stderr, only the answer on stdout, no colours, exit 0', async () => {
    const run = await runCli(['ask', '-m', 'sim/alpha,sim/beta', 'Should we ship on Friday?'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[Simulated answer from sim\/alpha/);
    expect(run.stdout).not.toMatch(ANSI);
    expect(run.stderr).not.toMatch(ANSI);
    expect(run.stderr).toContain('stage initial (sim/alpha, sim/beta)');
    expect(run.stderr).toMatch(/✔ meta · sim\/beta/);
    expect(run.stderr).toMatch(/an_\S+ succeeded · \d+ in \/ \d+ out tokens/);
  });

  it('ask on a terminal: a live display in colour and the answer under a heading', async () => {
    const run = await runCliOnTty(
      ['ask', '-p', 'standard', '-m', 'sim/alpha', 'A question for a terminal'],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(ANSI);
    expect(run.stdout).toContain('Answer · sim/alpha');
    expect(run.stdout).toContain('[Simulated answer from sim/alpha');
    expect(run.stdout).toMatch(/succeeded/);
  });

  it('ask --json prints the final record, which the service also lists and shows', async () => {
    const run = await runCli(
      ['ask', '--json', '-m', 'sim/gamma', '-o', 'temperature=0.3', 'JSON please'],
      env,
    );
    expect(run.code).toBe(0);
    const record = JSON.parse(run.stdout) as { id: string; status: string; result: { text: string } };
    expect(record.status).toBe('succeeded');
    expect(record.result.text).toContain('sim/gamma');
    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout).data.map((item: { id: string }) => item.id)).toContain(record.id);
    const show = await runCli(['show', record.id], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${record.id}  succeeded`);
    expect(show.stdout).toContain('# Answer (sim/gamma)');
  });

  it('ask -p council prints the aggregated ranking under the answer', async () => {
    const run = await runCli(['ask', '-p', 'council', 'Which database should a new SaaS start on?'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('FINAL RANKING');
    expect(run.stdout).toMatch(/Ranking\n#\s+model\s+average rank\s+votes\n1\s+sim\/\w+\s+\d\.\d\d\s+\d\n/);
  });

  it('a failed analysis exits 1 and says why', async () => {
    const run = await runCli(['ask', '-m', 'sim/broken', 'This will fail'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed: quorum_not_met/);
  });

  it('a refused request exits 4 with the service’s reason and the fields at fault', async () => {
    const unknown = await runCli(['ask', '-m', 'sim/nope', 'hi'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('Configured models: sim/alpha');
    const invalid = await runCli(['ask', '-o', 'temperature=9', 'hi'], env);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain('/options/temperature');
    const missing = await runCli(['show', 'an_missing'], env);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('does not exist');
  });

  it('cancel stops a running analysis', async () => {
    const response = await fetch(`${service.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'slow', models: ['sim/slow'] }),
    });
    const { id } = await json<{ id: string }>(response);
    const run = await runCli(['cancel', id], env);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`${id} cancelled`);
  });

  it('models and patterns print tables', async () => {
    const models = await runCli(['models'], env);
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/^id\s+available\s+circuit/);
    expect(models.stdout).toMatch(/sim\/alpha\s+yes\s+closed/);
    const patterns = await runCli(['patterns'], env);
    expect(patterns.stdout).toMatch(/council\s+answers → rankings → final/);
  });
});

describe('the chorus command: errors before any analysis', () => {
  it('a service that is not there: exit 3, naming CHORUS_URL and how to start one', async () => {
    const run = await runCli(['list'], { CHORUS_URL: 'http://127.0.0.1:9' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Cannot reach Chorus at http://127.0.0.1:9');
    expect(run.stderr).toContain('chorus serve');
  });

  it('a wrong flag or a bad CHORUS_URL: exit 2 with the usage hint', async () => {
    const flag = await runCli(['ask', '--bogus', 'hi'], {});
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--bogus'");
    const url = await runCli(['list'], { CHORUS_URL: 'not a url' });
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('CHORUS_URL is not a URL');
  });

  it('with API_KEYS: no key exits 4 naming CHORUS_API_KEY; the key works', async () => {
    const service = await startApp({ env: { API_KEYS: 'cli-test-key' } });
    try {
      const refused = await runCli(['list'], { CHORUS_URL: service.url });
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain('CHORUS_API_KEY');
      const allowed = await runCli(['list'], { CHORUS_URL: service.url, CHORUS_API_KEY: 'cli-test-key' });
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toContain('No analyses yet');
    } finally {
      await service.close();
    }
  });

  it('estimate prints what an analysis would cost, without running one', async () => {
    const service = await startApp();
    try {
      const run = await runCli(['estimate', 'hi', '-p', 'standard'], { CHORUS_URL: service.url });
      expect(run.code).toBe(0);
      const estimate = JSON.parse(run.stdout) as {
        calls: number;
        costUsd: { expected: number; max: number };
      };
      expect(estimate.calls).toBeGreaterThan(0);
      expect(estimate.costUsd.max).toBeGreaterThanOrEqual(estimate.costUsd.expected);
      const listed = await runCli(['list', '--json'], { CHORUS_URL: service.url });
      expect((JSON.parse(listed.stdout) as { data: unknown[] }).data).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('--help lists every command and the exit codes', async () => {
    const run = await runCli(['--help'], {});
    expect(run.code).toBe(0);
    for (const command of ['ask', 'estimate', 'list', 'show', 'cancel', 'models', 'patterns', 'serve'])
      expect(run.stdout).toContain(command);
    expect(run.stdout).toContain('CHORUS_API_KEY');
    expect(run.stdout).toContain('Exit codes');
  });
});
