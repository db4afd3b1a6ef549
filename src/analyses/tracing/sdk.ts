/**
 * The OpenTelemetry SDK behind `Tracing`, loaded only when an OTLP endpoint is
 * set. Spans go through a batch processor to the OTLP/HTTP exporter of the
 * configured protocol; the exporter, the batch processor and the sampler read
 * their other standard variables (OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*,
 * OTEL_TRACES_SAMPLER, …) themselves. The provider is this engine's own, not
 * the process-wide one: contexts are passed explicitly, never through
 * async-local state.
 */
import { type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AnalysisSpans, injectInto, type SpanTools } from './analysis-spans.js';
import type { TraceCarrier, Tracing } from './tracing.js';

export interface TracingOptions {
  /** The traces endpoint itself (`…/v1/traces`). */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  captureContent: boolean;
  /** Chorus's version, on every span's resource. */
  version?: string | undefined;
}

export function startTracing(options: TracingOptions): Tracing {
  const exporter =
    options.protocol === 'http/json'
      ? new JsonExporter({ url: options.url })
      : new ProtobufExporter({ url: options.url });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults.
  const resource = resourceFromAttributes({
    'service.name': 'chorus',
    ...(options.version ? { 'service.version': options.version } : {}),
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('chorus', options.version);
  const propagator = new W3CTraceContextPropagator();
  const getter = {
    keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
    get: (carrier: Record<string, unknown>, key: string) => {
      const value = carrier[key];
      return typeof value === 'string' || Array.isArray(value) ? value : undefined;
    },
  };
  const extract = (carrier: Record<string, unknown> | undefined): Context =>
    carrier ? propagator.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
  const tools: SpanTools = {
    tracer,
    captureContent: options.captureContent,
    extract,
    inject: (context) => injectInto(propagator, context),
  };
  return {
    startRequest(method, route, headers) {
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
        extract(headers),
      );
      const carrier: TraceCarrier = injectInto(propagator, trace.setSpan(ROOT_CONTEXT, span));
      let ended = false;
      return {
        carrier,
        end(statusCode) {
          if (ended) return;
          ended = true;
          span.setAttribute('http.response.status_code', statusCode);
          if (statusCode >= 500) {
            span.setAttribute('error.type', String(statusCode));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
    startAnalysis: (input) => new AnalysisSpans(tools, input),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
