import { BadRequestException } from '@nestjs/common';
import { type z } from 'zod';

/** Validates input at the edge: a 400 that says what was wrong, unknown fields named. */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data as z.infer<S>;
  throw new BadRequestException(
    r.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown parameter ${i.keys.join(', ')}`
          : `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`,
      )
      .join('; '),
  );
}
