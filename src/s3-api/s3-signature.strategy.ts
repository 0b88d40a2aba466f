import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { type JobPrincipal } from '../principal/principal';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { type JobRecord } from '../jobs/job.repository';
import { JobSecrets } from '../jobs/job-secrets';
import { hostBucketOf } from './s3-addressing';
import { S3_UNSUPPORTED_CODE, S3Error } from './s3-error';
import { SignaturePolicy } from './signature-policy';
import { isSigV2, type SigV2Success, verifySigV2 } from './sigv2/sigv2-verifier';
import { headersFromRaw, headerValues, splitTarget } from './sigv4/canonical-request';
import { SigningKeys } from './sigv4/signing-keys';
import { type S3AuthErrorCode, type SigningScope, type SigV4Success, verifySigV4 } from './sigv4/sigv4-verifier';

/** A job authenticated by its access key pair, with what the handler needs to verify the payload. */
export interface S3Caller extends JobPrincipal {
  auth: SigV4Success | SigV2Success;
}

/** Every signature refusal is 403 (the request is not authenticated), but a URI that cannot be read and a variant not supported. */
function statusOf(code: S3AuthErrorCode): number {
  if (code === S3_UNSUPPORTED_CODE) return 501;
  if (code === 'InvalidURI' || code === 'InvalidArgument' || code === 'InvalidRequest') return 400;
  return 403;
}

/**
 * The S3 API's authentication with a job's access key pair: SigV4 (header or presigned URL), or
 * SigV2 (header or presigned URL) where the policy lets a job sign with it (SignaturePolicy).
 * An unknown key and a wrong signature give the same answer (the verifiers run the full HMAC
 * either way); a revoked or expired job is refused like a revoked token, within the job cache's
 * 500 ms on every replica.
 */
@Injectable()
export class S3SignatureStrategy extends PassportStrategy(Strategy, 'sandbox-s3') {
  /** SigV4 keys derived once per job and day, not per request. */
  private readonly signingKeys = new SigningKeys();

  constructor(
    private readonly secrets: JobSecrets,
    private readonly clock: Clock,
    private readonly signatures: SignaturePolicy,
    @Inject(CAGE_CONFIG) private readonly config: CageConfig,
  ) {
    super();
  }

  async validate(req: FastifyRequest): Promise<S3Caller> {
    let job: JobRecord | undefined;
    const lookupSecret = async (accessKeyId: string) => {
      const found = await this.secrets.lookup(accessKeyId);
      job = found?.job;
      return found?.secret;
    };
    const lookupSigningKey = async (accessKeyId: string, scope: SigningScope) => {
      const holder = await this.secrets.holder(accessKeyId);
      job = holder;
      if (holder === undefined) return undefined;
      return this.signingKeys.get({ id: holder.id, sealed: holder.secretSealed }, scope, () => this.secrets.secretOf(holder));
    };
    const rawTarget = req.raw.url ?? '';
    const headers = headersFromRaw(req.raw.rawHeaders);
    const authorization = headerValues(headers, 'authorization');
    const v2 = isSigV2(authorization[0], splitTarget(rawTarget).rawQuery);
    const hostBucket = hostBucketOf(req.headers.host, this.config.s3Api.baseDomain);
    const result = v2
      ? await verifySigV2(
          { method: req.raw.method ?? '', rawTarget, headers, ...(hostBucket === undefined ? {} : { hostBucket }) },
          { lookupSecret, now: () => this.clock.now() },
        )
      : await verifySigV4(
          { method: req.raw.method ?? '', rawTarget, headers },
          { region: this.config.s3Api.region, service: 's3', now: () => this.clock.now(), lookupSigningKey },
        );
    if (!result.ok) throw new S3Error(statusOf(result.code), result.code, result.message);
    if (job === undefined)
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    const now = this.clock.now();
    if (job.revokedAt !== null) throw new S3Error(403, 'InvalidAccessKeyId', 'This job credential has been revoked.');
    if (job.expiresAt <= now) throw new S3Error(403, 'ExpiredToken', 'This job credential has expired.');
    const caller: S3Caller = { kind: 'job', jobId: job.id, team: job.team, expiresAt: job.expiresAt, auth: result };
    if (result.version === 2) await this.signatures.admit(caller, 'sigv2', { requestId: req.id, listener: 'sandbox' });
    return caller;
  }
}
