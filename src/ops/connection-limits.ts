import { type Server } from 'node:http';
import { type Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections the listener holds at most; more are closed as they arrive. */
  maxConnections: number;
  /** Open connections one client address holds at most (a flood from one place cannot take them all). */
  perAddress: number;
  /** A connection silent both ways this long is closed (one that never sends a byte included). */
  idleMs: number;
  /** A request's headers must have arrived this long after it began (slow-loris). */
  headersMs: number;
}

/** Largest request head (request line and headers) a listener reads. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The http.Server options that go with the limits (set when the server is made). */
export function serverOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersMs,
    // How often Node checks the headers and request timeouts (its default, 30 s, would let a
    // slow-loris hold a connection 30 s past the timeout).
    connectionsCheckingInterval: Math.min(1000, limits.headersMs),
    maxHeaderSize: MAX_HEADER_BYTES,
  };
}

/**
 * Bounds what clients can hold of a listener: its own limit on open connections (the two
 * listeners are limited apart, so a flood of one leaves the other, and the health probes on the
 * control listener, answering), a limit per client address, and an idle timeout.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, onRefused: (reason: 'listener' | 'address') => void): void {
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => onRefused('listener'));
  server.timeout = limits.idleMs;
  const byAddress = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = (byAddress.get(address) ?? 0) + 1;
    if (open > limits.perAddress) {
      onRefused('address');
      socket.destroy();
      return;
    }
    byAddress.set(address, open);
    socket.once('close', () => {
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left <= 0) byAddress.delete(address);
      else byAddress.set(address, left);
    });
  });
}
