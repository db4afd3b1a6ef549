import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const ENDPOINT = 'http://collector:4318';

describe('tracing configuration (the standard OTEL_* variables)', () => {
  it('is off by default', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
  });

  it('is on with an endpoint: /v1/traces is added to the general one, the traces one is used as is', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `${ENDPOINT}/` }).tracing).toEqual({
      url: `${ENDPOINT}/v1/traces`,
      protocol: 'http/protobuf',
      captureContent: false,
    });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      }).tracing,
    ).toEqual({ url: 'https://traces.example/otlp', protocol: 'http/json', captureContent: true });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }).tracing?.protocol,
    ).toBe('http/protobuf');
  });

  it('is off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, whatever the endpoint', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'true' }).tracing).toBe(
      undefined,
    );
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBe(
      undefined,
    );
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /http\/protobuf or http\/json/],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'thrift', /http\/protobuf or http\/json/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /URL/i],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://collector/v1/traces', /URL/i],
    ['OTEL_TRACES_EXPORTER', 'jaeger', /otlp or none/],
    ['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'yes', /true|false/],
  ])('a bad %s (%s) stops the boot naming the variable', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${name}:`);
    expect((error as Error).message).toMatch(message);
  });
});
