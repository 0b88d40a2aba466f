import { mkdirSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
// s3rver ships no types; its surface used here is three methods.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};

/**
 * The embedded default object store: s3rver in this process, files under the data dir,
 * on loopback only. Production points CAGE_S3_ENDPOINT at a real S3 service instead.
 */
export class EmbeddedS3 {
  private constructor(
    private readonly server: { close(): Promise<void> },
    readonly endpoint: string,
  ) {}

  static async start(directory: string, port = 0): Promise<EmbeddedS3> {
    mkdirSync(directory, { recursive: true });
    const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true });
    const address = await server.run();
    return new EmbeddedS3(server, `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}
