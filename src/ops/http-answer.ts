/** How the REST API answers an error: status, the message shown, and what else goes with it. */
export interface HttpAnswer {
  status: number;
  message: string;
  headers?: Record<string, string>;
  /** Fields added to `{error, message, requestId}`. */
  body?: Record<string, unknown>;
  /** Close the connection after the answer (a request body left unread is not drained). */
  closeConnection?: boolean;
}

/**
 * An error that says how it is answered over HTTP. The services' errors extend it (or one of
 * the kinds below), so the one error filter (ops/error.filter.ts) needs none of their types:
 * the low layer does not reach up into the data plane, egress or the audit writer.
 */
export abstract class AnsweredError extends Error {
  abstract answer(): HttpAnswer;
}

/** Bad input the client can fix: 400 with the reason. */
export class BadInputError extends AnsweredError {
  answer(): HttpAnswer {
    return { status: 400, message: this.message };
  }
}

/**
 * A dependency (database, audit store, object store) cannot do its part: 503, nothing served
 * or released. The message the client sees says only that; the log has the cause.
 */
export class DependencyUnavailableError extends AnsweredError {
  answer(): HttpAnswer {
    return { status: 503, message: 'a dependency of the gateway is unavailable; nothing was served', headers: { 'retry-after': '1' } };
  }
}
