import { z } from 'zod';
import { signingKey } from './audit.dto';
import { MAX_USER_TTL_S } from '../principal/principal';
import { requestModel, responseModel } from '../ops/openapi-models';

export { signingKey, signingKeyList } from './audit.dto';

export const rotateSigningKey = requestModel(
  'RotateSigningKey',
  z
    .object({
      /**
       * How long the retired key's tokens are still accepted: 0 refuses them at once (a key that may
       * have leaked); unset, until they expire (at most a user token's longest life).
       */
      tokenGraceSeconds: z
        .number()
        .int('tokenGraceSeconds must be an integer')
        .min(0, 'tokenGraceSeconds must be 0 or more')
        .max(MAX_USER_TTL_S, `tokenGraceSeconds must be at most ${MAX_USER_TTL_S} (366 days, the longest a token lives)`)
        .optional()
        .describe("how long the retired key's tokens are still accepted: 0 refuses them at once; unset, until they expire"),
    })
    .strict(),
);

export const signingKeyRotation = responseModel('SigningKeyRotation', z.object({ retired: signingKey, active: signingKey }).strict());
export type SigningKeyRotation = z.infer<typeof signingKeyRotation>;
