/**
 * The error-code catalog. Every 4xx/5xx the API returns carries one of these codes in its envelope;
 * use cases throw `AppError` and the HTTP layer turns it into a response without knowing the cause.
 */
export const ErrorCodes = {
  VALIDATION_ERROR: 422,
  BAD_REQUEST: 400,
  INVALID_IMAGE: 400,
  IMAGE_TOO_SMALL: 400,
  IMAGE_TOO_LARGE: 400,
  // The uploaded file's type is not accepted (seed 004 answers 400); a request body of the wrong type is a 415.
  UNSUPPORTED_MEDIA_TYPE: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  RATE_LIMITED: 429,
  NO_FACES: 422,
  POOR_FACE_QUALITY: 422,
  SERVICE_UNAVAILABLE: 503,
  MODEL_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An expected failure with a machine-readable code; its message is safe to show to the caller. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;
  /** Seconds a client should wait before trying again (sent as Retry-After). */
  retryAfterS: number | undefined;

  /** `status` overrides the code's usual HTTP status (a request body of the wrong type: 415). */
  constructor(code: ErrorCode, message: string, details?: unknown, status?: number) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.statusCode = status ?? ErrorCodes[code];
    this.details = details;
    this.retryAfterS = undefined;
  }
}

/** True when `err` is an AppError (works across module copies, unlike instanceof alone). */
export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError || (err instanceof Error && err.name === 'AppError' && 'code' in err);
}
