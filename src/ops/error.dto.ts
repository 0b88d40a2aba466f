import { z } from 'zod';
import { responseModel } from './openapi-models';

/** Every error the gateway answers (the S3 API aside): what went wrong, and the request id to quote. */
export const apiError = responseModel(
  'ApiError',
  z.object({
    error: z.string().describe('a stable code: bad_request, unauthorized, forbidden, not_found, conflict, …'),
    message: z.string().describe('what was wrong, for people; never an echo of what was submitted'),
    requestId: z.string(),
  }),
);
export type ApiError = z.infer<typeof apiError>;
