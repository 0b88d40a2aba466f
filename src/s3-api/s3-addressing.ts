import { splitTarget } from './sigv4/canonical-request';

/**
 * Virtual-hosted–style addressing: with a base domain configured, a request to
 * `<bucket>.<base domain>` names its bucket in the Host and its key in the path. Everything after
 * authentication reads the path-style equivalent (`/<bucket>/<key>`), so the operations know one
 * form. The Host is signed by SigV4 (`host` must be a signed header); SigV2 signs the bucket
 * through its canonical resource (`hostBucket`). A Host that is the base domain itself, or
 * anything else, is path-style.
 */
export function hostBucketOf(host: string | undefined, baseDomain: string | undefined): string | undefined {
  if (baseDomain === undefined || host === undefined) return undefined;
  const name = host.toLowerCase().replace(/:\d{1,5}$/, '');
  const suffix = `.${baseDomain}`;
  if (!name.endsWith(suffix)) return undefined;
  const bucket = name.slice(0, -suffix.length);
  return bucket === '' ? undefined : bucket;
}

/** The request target as path-style: the host's bucket, if any, before the path. */
export function pathStyleTarget(rawTarget: string, hostBucket: string | undefined): string {
  if (hostBucket === undefined) return rawTarget;
  const { rawPath, rawQuery } = splitTarget(rawTarget);
  const path = rawPath === '/' ? `/${encodeURIComponent(hostBucket)}` : `/${encodeURIComponent(hostBucket)}${rawPath}`;
  return rawQuery === '' ? path : `${path}?${rawQuery}`;
}
