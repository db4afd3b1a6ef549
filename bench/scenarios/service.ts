/** The service under test in a scenario: its models file, its start and stop, and where its measurement began. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '../lib/processes.js';
import { startService } from '../lib/processes.js';
import type { BenchContext } from './context.js';

export const MODEL_IDS = Array.from({ length: 12 }, (_, index) => `fake/m${index + 1}`);

/**
 * A MODELS_FILE with one OpenAI-compatible provider `fake` (models m1…m12,
 * m1 weighing most, so it is the synthesis model) pointing at the fake
 * upstream. `concurrency` unset leaves the service's default provider limit.
 */
export function writeModelsFile(context: BenchContext, name: string, concurrency?: number): string {
  const lines = [
    'providers:',
    '  - name: fake',
    '    kind: openai-compatible',
    `    baseURL: ${context.upstreamUrl}`,
    '    timeoutMs: 120000',
    ...(concurrency === undefined ? [] : [`    concurrency: ${concurrency}`]),
    '    models:',
    ...MODEL_IDS.map((id, index) => `      - { id: ${id.slice(5)}, weight: ${12 - index} }`),
  ];
  const path = join(context.tmpDir, `${name}.models.yaml`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Starts the built service for one scenario (under --cpu-prof when
 * profiling). Quick runs reuse a running service with the same environment;
 * its `stop()` is then left to the driver's end (`stopSharedServices`).
 */
export async function startScenarioService(
  context: BenchContext,
  scenario: string,
  env: Record<string, string>,
): Promise<Service> {
  if (!context.quick || context.profileDir) {
    return startService(env, {
      cpuProfileDir: context.profileDir ? join(context.profileDir, scenario) : undefined,
    });
  }
  const key = JSON.stringify(env);
  let shared = context.sharedServices.get(key);
  if (!shared) {
    shared = startService(env);
    context.sharedServices.set(key, shared);
  }
  const service = await shared;
  return { ...service, stop: async () => {} };
}

export async function stopSharedServices(context: BenchContext): Promise<void> {
  const services = await Promise.allSettled(context.sharedServices.values());
  context.sharedServices.clear();
  for (const service of services) if (service.status === 'fulfilled') await service.value.stop();
}

/** Marks the start of a scenario's measurement, so its CPU profile leaves out start-up and warm-up. */
export function markMeasurement(context: BenchContext, scenario: string, service: Service): void {
  context.profileSkipMs[scenario] = performance.now() - service.spawnedAt;
}

/**
 * The same for a deployment of several processes, whose profiles sit in
 * sub-folders named after them (`<scenario>/api`, `<scenario>/worker1`, …):
 * each process started at its own time, so each gets its own skip.
 */
export function markProcessesMeasurement(
  context: BenchContext,
  scenario: string,
  services: Record<string, Service>,
): void {
  const now = performance.now();
  for (const [name, service] of Object.entries(services)) {
    context.profileSkipMs[`${scenario}/${name}`] = now - service.spawnedAt;
  }
}
