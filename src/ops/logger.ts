import { WinstonModule } from 'nest-winston';
import { type LoggerService } from '@nestjs/common';
import * as winston from 'winston';
import { currentRequestId } from './request-context';

const withRequestId = winston.format((info) => {
  const id = currentRequestId();
  if (id !== undefined && info.requestId === undefined) info.requestId = id;
  return info;
});

/**
 * JSON lines on stdout, one per event, each with the request id of the request that caused it.
 * Nothing here ever receives tokens, secrets or object bytes: callers log names and ids only.
 */
export function createLogger(level: string): LoggerService {
  return WinstonModule.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), withRequestId(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
