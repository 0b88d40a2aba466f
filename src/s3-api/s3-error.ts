/**
 * S3's error answer: an HTTP status and an XML `<Error>` with a code clients switch on
 * (boto3's `ClientError.response['Error']['Code']`), a message, the resource and the request id.
 */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements of the `<Error>` document (e.g. the egress refusal's reasons). */
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const accessDenied = (message = 'Access Denied') => new S3Error(403, 'AccessDenied', message);
/** S3's error code for an operation or variant a server does not offer; clients switch on this exact string. */
export const S3_UNSUPPORTED_CODE = 'NotImplemented';
/** A deliberate refusal: the gateway offers only what jobs need (reads of datasets, writes to the outbox). */
export const unsupported = (what: string) => new S3Error(501, S3_UNSUPPORTED_CODE, `${what} is not offered by this gateway`);
export const noSuchBucket = () => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
export const noSuchKey = () => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
export const invalidArgument = (message: string) => new S3Error(400, 'InvalidArgument', message);
