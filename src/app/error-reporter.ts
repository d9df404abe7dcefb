/**
 * Error reporting (a port): failures that need an operator's attention — a request answered with a 5xx other than
 * 503, a job handler that crashed, a process going down on an uncaught error — are sent to an error tracker
 * (Sentry, or a compatible server such as GlitchTip) besides the log. Off by default: the no-op reporter.
 *
 * The context carries identifiers only: never credentials, headers or request bodies.
 */

/** What was going on when an error happened. */
export interface ErrorContext {
  /** An HTTP request that answered 5xx, a job handler that crashed, or the process itself. */
  readonly source: 'http' | 'job' | 'process';
  readonly requestId?: string | undefined;
  /** The route pattern (`/api/v1/media/:id`), never the URL with its ids and query. */
  readonly route?: string | undefined;
  readonly method?: string | undefined;
  readonly ownerId?: string | undefined;
  readonly jobId?: string | undefined;
  readonly jobKind?: string | undefined;
  /** The job's attempt that crashed (1 = the first). */
  readonly attempt?: number | undefined;
}

/** Sends errors to an error tracker. */
export interface ErrorReporter {
  /** Queues the error for sending; never throws and never waits (the caller is answering a request or a crash). */
  capture(err: unknown, context: ErrorContext): void;
  /** Waits until what was captured has been sent, at most `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes and stops; nothing is sent afterwards. */
  close(timeoutMs?: number): Promise<void>;
}

/** The default: reports nothing (errors still go to the log). */
export const noopErrorReporter: ErrorReporter = {
  capture: () => undefined,
  flush: async () => undefined,
  close: async () => undefined,
};
