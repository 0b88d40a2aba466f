import { EgressRejection } from './egress-rejection';

export const UTF8_BOM: readonly number[] = [0xef, 0xbb, 0xbf];

/**
 * The checks every text kind starts with: size cap, not empty, no BOM, valid UTF-8.
 * Returns the decoded text.
 */
export function decodeTextSubmission(bytes: Buffer, maxBytes: number): string {
  if (bytes.length > maxBytes) throw new EgressRejection('too_large', `artifact is larger than the kind's limit of ${maxBytes} bytes`);
  if (bytes.length === 0) throw new EgressRejection('empty', 'artifact is empty');
  if (UTF8_BOM.every((b, i) => bytes[i] === b)) {
    throw new EgressRejection('byte_order_mark', 'artifact starts with a byte-order mark', { line: 1 });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new EgressRejection('invalid_utf8', 'artifact is not valid UTF-8');
  }
}
