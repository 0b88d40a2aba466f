import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/config';
import { Gateway } from './gateway';
import { createLogger, logFormatFor } from './ops/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cage: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, logFormatFor(config.logFormat, process.stdout.isTTY === true));
  Logger.overrideLogger(logger);
  const gateway = await Gateway.start(config, { logger });
  const log = new Logger('Main');
  log.log({
    message: 'cage gateway listening',
    control: gateway.controlUrl,
    sandbox: gateway.sandboxUrl,
    bootstrap: gateway.bootstrapFile ?? null,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log({ message: 'shutting down', signal });
    gateway.stop().then(
      () => {
        log.log({ message: 'stopped cleanly' });
        process.exit(0);
      },
      (err: Error) => {
        log.error({ message: 'shutdown failed', error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`cage: failed to start: ${err.message}\n`);
  process.exit(1);
});
