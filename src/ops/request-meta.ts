import { type FastifyRequest } from 'fastify';

/** Who asked, for an audit leaf: the request id and the listener it came in on. */
export const controlMeta = (req: FastifyRequest) => ({ requestId: req.id, listener: 'control' as const });
