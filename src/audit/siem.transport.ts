import * as winston from 'winston';
import { type AuditLeaf, canonicalJson } from './audit-leaf';

/**
 * The SIEM copy: every committed leaf mirrored through a winston transport as one JSON line
 * (`{"index","hash","siem","leaf"}`, the leaf in its canonical form, so a SIEM can recompute its
 * hash) to a file or stdout, for shipping to a separate system. The database stays the source of
 * truth. Lines carry no object bytes and no secrets (leaves never hold either).
 */
export class SiemMirror {
  private readonly logger: winston.Logger;

  constructor(target: string) {
    const format = winston.format.printf((info) => String(info.message));
    this.logger = winston.createLogger({
      level: 'info',
      transports: [
        target === '-'
          ? new winston.transports.Console({ format })
          : new winston.transports.File({ filename: target, format, options: { flags: 'a', mode: 0o600 } }),
      ],
    });
  }

  write(leaf: AuditLeaf, index: number, hash: Buffer): void {
    this.logger.info(`{"index":${index},"hash":"${hash.toString('hex')}","siem":"cage-audit","leaf":${canonicalJson(leaf)}}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.logger.on('finish', () => resolve());
      this.logger.end();
    });
  }
}
