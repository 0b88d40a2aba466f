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
