/** Helpers for tests of loadConfig: the boot error a bad environment throws, and a provider by name. */
import { expect } from 'vitest';
import { type Config, ConfigError, loadConfig } from '../../src/config/index.js';

/** The ConfigError a bad environment throws (fails the test if none is thrown). */
export function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(Object.keys(env))}) to throw a ConfigError`);
}

export const providerNamed = (config: Config, name: string) =>
  config.providers.find((entry) => entry.name === name);
