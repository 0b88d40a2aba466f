import { createHmac } from 'node:crypto';

/**
 * A minimal SigV2 signer for tests that need to alter what real clients would not (the real
 * clients — botocore, s3cmd — are driven in test/e2e/s3-clients.e2e.ts): the string to sign as
 * S3's documentation gives it, for path-style requests.
 */
export function sigV2StringToSign(method: string, path: string, headers: Record<string, string>, dateLine: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const amz = Object.keys(lower)
    .filter((k) => k.startsWith('x-amz-'))
    .sort()
    .map((k) => `${k}:${lower[k].trim()}\n`)
    .join('');
  return `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${dateLine}\n${amz}${path}`;
}

export function sigV2(secret: string, toSign: string): string {
  return createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
}

/** Headers of a header-signed SigV2 request (`Date` now, unless given). */
export function sigV2Headers(
  creds: { accessKeyId: string; secretAccessKey: string },
  method: string,
  resource: string,
  headers: Record<string, string> = {},
  date = new Date(),
): Record<string, string> {
  const all = { date: date.toUTCString(), ...headers };
  const toSign = sigV2StringToSign(method, resource, all, 'x-amz-date' in all ? '' : all.date);
  return { ...all, authorization: `AWS ${creds.accessKeyId}:${sigV2(creds.secretAccessKey, toSign)}` };
}

/**
 * A SigV2 presigned path: `resource` signed with `Expires` (seconds since the epoch), and
 * `signedQuery` (x-amz-*, Content-MD5) signed as headers and sent in the query, as botocore does.
 */
export function sigV2Presign(
  creds: { accessKeyId: string; secretAccessKey: string },
  method: string,
  path: string,
  expires: number,
  signedQuery: Record<string, string> = {},
): string {
  const signature = sigV2(creds.secretAccessKey, sigV2StringToSign(method, path.split('?')[0], signedQuery, String(expires)));
  const extra = Object.entries(signedQuery).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`);
  const sep = path.includes('?') ? '&' : '?';
  return `${path}${sep}AWSAccessKeyId=${creds.accessKeyId}&Expires=${expires}${extra.join('')}&Signature=${encodeURIComponent(signature)}`;
}
