import { WinstonModule, utilities as nestWinston } from 'nest-winston';
import { type LoggerService } from '@nestjs/common';
import * as winston from 'winston';
import { currentRequestId } from './request-context';

export type LogFormat = 'json' | 'pretty';

const withRequestId = winston.format((info) => {
  const id = currentRequestId();
  if (id !== undefined && info.requestId === undefined) info.requestId = id;
  return info;
});

/**
 * Nest's own start-up chatter (a line per module loaded and per route mapped) is noise to an
 * operator: it is shown only at the debug level.
 */
const NOISY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
const quietNest = (level: string) =>
  winston.format((info) => (level !== 'debug' && typeof info.context === 'string' && NOISY_CONTEXTS.has(info.context) ? false : info))();

/** `pretty` on a terminal, `json` otherwise, unless asked (CAGE_LOG_FORMAT). */
export function logFormatFor(asked: 'json' | 'pretty' | 'auto', isTty: boolean): LogFormat {
  return asked === 'auto' ? (isTty ? 'pretty' : 'json') : asked;
}

/**
 * One event per line, each with the request id of the request that caused it: JSON lines for
 * machines (log shippers, SIEMs), coloured lines for people at a terminal. Nothing here ever
 * receives tokens, secrets or object bytes: callers log names and ids only.
 */
export function createLogger(level: string, format: LogFormat = 'json', stream?: NodeJS.WritableStream): LoggerService {
  const shape =
    format === 'pretty'
      ? nestWinston.format.nestLike('cage', { colors: true, prettyPrint: false, processId: false, appName: true })
      : winston.format.json();
  return WinstonModule.createLogger({
    level,
    format: winston.format.combine(quietNest(level), winston.format.timestamp(), withRequestId(), shape),
    // Console on stdout; a given stream instead where the lines are wanted (tests).
    transports: [stream === undefined ? new winston.transports.Console() : new winston.transports.Stream({ stream })],
  });
}
