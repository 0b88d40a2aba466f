import { AsyncLocalStorage } from 'node:async_hooks';

/** The request id of the request being served, for log lines written anywhere below it. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
