import { request as httpRequest } from 'node:http';
import { type RawResponse } from './http';

/** POSTs a raw body to the sandbox egress route. */
export function postEgress(
  sandboxUrl: string,
  kind: string,
  token: string,
  body: Buffer | string,
  contentType = 'text/csv',
): Promise<RawResponse & { json: Record<string, unknown> }> {
  const u = new URL(sandboxUrl);
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: `/v1/egress/${kind}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': payload.length },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(b.toString()) as Record<string, unknown>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, aborted: false, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function predictions(rows: string[], lineEnd = '\n'): string {
  return ['seriesuid,coordX,coordY,coordZ,probability', ...rows].join(lineEnd) + lineEnd;
}

/**
 * A predictions CSV of about `bytes` bytes on the fixture's test scans (scan-8, scan-9): rows
 * differ, and the checker rounds them; `seed` makes another file of the same size.
 */
export function predictionsOf(bytes: number, seed = 0): Buffer {
  const rows = ['seriesuid,coordX,coordY,coordZ,probability'];
  let n = rows[0].length + 1;
  for (let i = 0; n < bytes; i++) {
    const row = `scan-${8 + ((i + seed) % 2)},${(i % 40) + 1}.25,-${(i % 30) + 1}.5,${(i % 20) + 1}.75,0.${String((i * 7 + seed) % 1000).padStart(3, '0')}`;
    rows.push(row);
    n += row.length + 1;
  }
  return Buffer.from(rows.join('\n') + '\n');
}
