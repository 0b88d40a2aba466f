import { request as httpRequest } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** True when the connection ended before Content-Length bytes arrived. */
  aborted: boolean;
}

/**
 * A request with the path sent byte for byte as given (no client-side normalization of `..`,
 * `//` or percent-encoding), which is what the key-handling tests need.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => {
        const body = Buffer.concat(chunks);
        const declared = res.headers['content-length'];
        if (declared !== undefined && method !== 'HEAD' && Number(declared) !== body.length) aborted = true;
        if (!res.complete) aborted = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, aborted });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function objectPath(dataset: string, key: string): string {
  return `/v1/datasets/${dataset}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}
