/**
 * The ErrorReporter on the Sentry SDK (@sentry/node), for Sentry or any server that takes its envelopes (GlitchTip,
 * self-hosted Sentry). Loaded only when ARGUS_SENTRY_DSN is set.
 *
 * The SDK is used as a plain error sender: a client of our own (no `Sentry.init`, so nothing global is installed
 * and tests may run several), no default integrations (no HTTP, fetch, console or module hooks, no
 * diagnostics-channel injection, no OpenTelemetry tracer, no tracing): requests cost exactly what they cost without
 * it, and the only work is done when an error is captured. Every event passes a scrubber before it leaves.
 */
import os from 'node:os';
import { defaultStackParser, linkedErrorsIntegration, makeNodeTransport, NodeClient, Scope, type ErrorEvent } from '@sentry/node';
import type { ErrorContext, ErrorReporter } from '../../app/error-reporter.js';

/** How the reporter is set up. */
export interface SentryReporterOptions {
  readonly dsn: string;
  readonly environment?: string | undefined;
  /** Share of errors sent (0..1). */
  readonly sampleRate: number;
  /** Which process reports: the API (`argus serve`) or a worker (`argus worker`); a tag on every event. */
  readonly role: 'api' | 'worker';
}

/** Creates a reporter that sends to the DSN. */
export function createSentryReporter(opts: SentryReporterOptions): ErrorReporter {
  const client = new NodeClient({
    dsn: opts.dsn,
    environment: opts.environment,
    sampleRate: opts.sampleRate,
    serverName: os.hostname(),
    transport: makeNodeTransport,
    // Errors are rare: a connection per report, so nothing lingers after close().
    transportOptions: { keepAlive: false },
    stackParser: defaultStackParser,
    // Only `cause` chains (a database error wrapped in ours): every other integration hooks into the process.
    integrations: [linkedErrorsIntegration()],
    // Nothing collected automatically (none of the integrations that would are on; this holds if one is added).
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false, databaseQueryData: false, queues: false, stackFrameVariables: false, frameContextLines: 0 },
    sendClientReports: false,
    enableRuntimeChannelInjection: false,
    enableOpenTelemetrySetup: false,
    // No tracing at all (no tracesSampleRate either): without this the client still adds its span-streaming hook.
    traceLifecycle: 'static',
    beforeBreadcrumb: () => null,
    beforeSend: scrubEvent,
  });
  client.init();
  let closed = false;
  return {
    capture(err, context) {
      if (closed) return;
      try {
        const scope = new Scope();
        scope.setTags(tagsOf(context, opts.role));
        if (context.ownerId) scope.setUser({ id: context.ownerId });
        client.captureException(err, { originalException: err, mechanism: { type: `argus.${context.source}`, handled: context.source !== 'process' } }, scope);
      } catch {
        // Reporting must never turn one failure into two.
      }
    },
    async flush(timeoutMs = 2000) {
      await client.flush(timeoutMs);
    },
    async close(timeoutMs = 2000) {
      if (closed) return;
      closed = true;
      await client.close(timeoutMs);
    },
  };
}

/** The context as Sentry tags (searchable: `request_id:...`, `job_id:...`). */
function tagsOf(context: ErrorContext, role: string): Record<string, string> {
  const tags: Record<string, string | number | undefined> = {
    source: context.source,
    process_role: role,
    request_id: context.requestId,
    route: context.route,
    method: context.method,
    job_id: context.jobId,
    job_kind: context.jobKind,
    attempt: context.attempt,
  };
  return Object.fromEntries(Object.entries(tags).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}

/** Headers that carry credentials. */
const SECRET_HEADERS = new Set(['x-api-key', 'authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Credentials that may turn up inside an error message (a driver quoting its connection string, a key in a URL). */
const SECRET_TEXT: [RegExp, string][] = [
  [/argus_[A-Za-z0-9_-]{8,}/g, 'argus_[REDACTED]'],
  [/whsec_[A-Za-z0-9+/=_-]{8,}/g, 'whsec_[REDACTED]'],
  [/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[REDACTED JWT]'],
  [/\b(bearer\s+)[^\s,;"']+/gi, '$1[REDACTED]'],
  [/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[REDACTED]@'],
  [/\b(password|passwd|pwd|secret|token|api[_-]?key)(\s*[=:]\s*)[^\s&,;"']+/gi, '$1$2[REDACTED]'],
];

/** A text with every credential-looking part replaced. */
export function scrubText(text: string): string {
  return SECRET_TEXT.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

/**
 * The last look at an event before it is sent: no breadcrumbs, no request body, cookies, query or credential
 * headers, and credential-looking text removed from messages. Exported for its test.
 */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  delete event.breadcrumbs;
  if (event.message) event.message = scrubText(event.message);
  if (event.logentry?.message) event.logentry.message = scrubText(event.logentry.message);
  for (const ex of event.exception?.values ?? []) {
    if (ex.value) ex.value = scrubText(ex.value);
  }
  if (event.request) {
    const { method, url, headers } = event.request;
    event.request = {
      ...(method ? { method } : {}),
      ...(url ? { url: url.split('?')[0] } : {}),
      ...(headers ? { headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase()))) } : {}),
    };
  }
  return event;
}
