import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, rename, rm } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@nestjs/common';
// s3rver ships no types; its surface used here is three methods.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  store: FilesystemStore;
};
// s3rver's one account: the key pairs it accepts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
};

/** The part of s3rver's file store that writeObjectsSafely() replaces and uses. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Buffer | Readable; metadata: unknown }): Promise<{ size: number; md5: string }>;
}

const METADATA_SUFFIX = '._S3rver_metadata.json';
const MD5_SUFFIX = '._S3rver_object.md5';

/**
 * The embedded default object store: s3rver in this process, files under the data dir,
 * on loopback only. Production points CAGE_S3_ENDPOINT at a real S3 service instead.
 */
export class EmbeddedS3 {
  private constructor(
    private readonly server: { close(): Promise<void> },
    readonly endpoint: string,
    /** Set for the gateway's own store: where it listens, and the key pair it alone accepts. */
    readonly access?: { socketPath: string; accessKeyId: string; secretAccessKey: string },
  ) {}

  /**
   * The gateway's embedded store: reachable by the gateway alone. It listens on a Unix socket in
   * the data dir (mode 0700: no other user, and nothing on loopback, reaches it; a `cage run`
   * sandbox does not see the data dir), and answers only requests signed with a key pair made
   * for this start, never s3rver's well-known S3RVER keys (403 before s3rver sees them).
   */
  static async startPrivate(directory: string, socketPath: string): Promise<EmbeddedS3> {
    prepare(directory);
    // Path-style only: the endpoint's made-up host is not a bucket.
    const s3 = new S3rver({ directory, silent: true, vhostBuckets: false });
    writeObjectsSafely(s3.store);
    const accessKeyId = `CAGE${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
    const handle = s3.callback();
    const server = createHttpServer((req, res) => {
      if (!signedBy(req, accessKeyId)) {
        req.resume();
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>not the gateway</Message></Error>');
        return;
      }
      handle(req, res);
    });
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
    chmodSync(socketPath, 0o600);
    const close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    return new EmbeddedS3({ close }, 'http://embedded-store.invalid', { socketPath, accessKeyId, secretAccessKey });
  }

  /** s3rver on a loopback port with its well-known keys: the benchmark's and the tests' stand-in for an S3 service. */
  static async start(directory: string, port = 0): Promise<EmbeddedS3> {
    prepare(directory);
    const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true });
    writeObjectsSafely(server.store);
    const address = await server.run();
    return new EmbeddedS3(server, `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}

function prepare(directory: string): void {
  mkdirSync(directory, { recursive: true });
  const repaired = repairCutShortWrites(directory);
  if (repaired.length > 0)
    new Logger('EmbeddedS3').warn({
      message: 'objects whose write was cut short by the last stop were made readable again',
      files: repaired,
    });
}

/** Whether a request is SigV4-signed (header or presigned query) with this access key. */
function signedBy(req: IncomingMessage, accessKeyId: string): boolean {
  const header = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  const query = /[?&]X-Amz-Credential=([^%/&]+)(?:%2F|\/)/i.exec(req.url ?? '')?.[1];
  return (header ?? query) === accessKeyId;
}

/**
 * s3rver (3.7, no longer maintained) writes an object's bytes through a stream it never listens
 * to for errors and answers before the bytes are written: on a full disk its PUT says 200 for an
 * object it did not store, and the write's ENOSPC, unhandled, ends the process (the whole gateway,
 * on the embedded default). Replaced here, on the store instance: the bytes go to a temporary file
 * that is renamed over the object only once written whole, and a failed write is the PUT's error
 * (a 500 the gateway answers as the store failing: 503, nothing lost, the old object intact).
 * Written ourselves: the defect is s3rver's and there is no maintained release to take instead.
 */
function writeObjectsSafely(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    const partial = `${path}.partial-${randomBytes(6).toString('hex')}`;
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(partial),
      );
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

/**
 * s3rver writes an object's bytes, then its checksum and metadata files. A process killed in
 * between can leave the metadata cut short, and s3rver then fails every listing of the bucket
 * (and so every start of the gateway). What it cannot parse is replaced by empty metadata and
 * the checksum recomputed from the bytes actually on disk: the object becomes readable again as
 * what it is — a short object the outbox reconciler then finds without a release and quarantines.
 * Written ourselves: s3rver has no repair, and this is its file layout's contract, not ours.
 */
export function repairCutShortWrites(directory: string): string[] {
  const repaired: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\._S3rver_object\.partial-[0-9a-f]{12}$/.test(entry.name))
        rmSync(path, { force: true }); // an upload the stop cut short
      else if (entry.name.endsWith(METADATA_SUFFIX)) {
        try {
          JSON.parse(readFileSync(path, 'utf8'));
        } catch {
          writeFileSync(path, '{}');
          rmSync(path.slice(0, -METADATA_SUFFIX.length) + MD5_SUFFIX, { force: true });
          repaired.push(path.slice(directory.length + 1, -METADATA_SUFFIX.length));
        }
      } else if (entry.name.endsWith(MD5_SUFFIX) && !/^[0-9a-f]{32}$/.test(readIfThere(path))) {
        rmSync(path, { force: true });
        repaired.push(path.slice(directory.length + 1, -MD5_SUFFIX.length));
      }
    }
  };
  walk(directory);
  return [...new Set(repaired)];
}

/** A checksum file removed a moment ago (with its metadata) reads as valid: nothing left to repair. */
function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '0'.repeat(32);
  }
}
