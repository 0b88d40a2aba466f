import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Gateway configuration, read once from the environment at start-up. Anything invalid stops
 * start-up with a message naming the variable: a gateway that guesses at its own configuration
 * may serve data on the wrong address or with the wrong store.
 */
export interface CageConfig {
  dataDir: string;
  host: string;
  controlPort: number;
  sandboxPort: number;
  /** The sandbox listener on a Unix socket as well (what `cage run` bridges a confined job to), or undefined. */
  sandboxSocket: string | undefined;
  databaseUrl: string | undefined;
  /** PostgreSQL connections in each replica's pool (besides one for its liveness lock). */
  databasePoolSize: number;
  /** Per listener: open connections, idle and header timeouts (ops/connection-limits.ts). */
  connections: {
    sandboxMax: number;
    sandboxPerAddress: number;
    controlMax: number;
    idleSeconds: number;
    headersSeconds: number;
  };
  s3: {
    /** Unset: the embedded s3rver is started under the data dir. */
    endpoint: string | undefined;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    /** Per-request timeout for object store calls that do not stream. */
    timeoutMs: number;
  };
  /** Ingest: local sources must lie under `root`; `s3://` sources are read from `rawS3` (the gateway's own store when unset). */
  ingest: {
    root: string;
    /** The re-identification key (32 bytes, base64); generated under the data dir when unset. */
    pseudonymKeyFile: string | undefined;
    rawS3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean } | undefined;
  };
  /** The S3-compatible API on the sandbox listener: the region its SigV4 scopes must name. */
  /**
   * The S3-compatible API: the region SigV4 scopes name, and the base domain of virtual-hosted
   * addressing (`<bucket>.<baseDomain>`; path-style always works).
   */
  s3Api: { region: string; baseDomain: string | undefined };
  policyDir: string;
  demo: boolean;
  signingKeyFile: string | undefined;
  signingKey: string | undefined;
  logLevel: string;
  /** `json` lines, `pretty` coloured lines, or `auto`: pretty on a terminal, JSON otherwise. */
  logFormat: 'json' | 'pretty' | 'auto';
  audit: { maxBatch: number; maxDelayMs: number };
  /**
   * Egress uploads one job may have open at once; attempts a job and a team may start per
   * second (bursts of ten times that); and how long an attempt refused for being over the day's
   * limits or over the open uploads waits before its 429 (so a job hammering the door costs the
   * gateway a timer, not its CPU); and the publication slot: contestants see an attempt's row
   * only once the slot it was made in has ended, so when a job submitted is known to the slot.
   */
  egress: {
    concurrentPerJob: number;
    attemptsPerSecondPerJob: number;
    attemptsPerSecondPerTeam: number;
    overLimitDelayMs: number;
    publishSeconds: number;
  };
  /** Multipart uploads into the outbox (S3 API): how long one may stay open, how many parts, how many open per job. */
  multipart: { ttlSeconds: number; maxParts: number; openPerJob: number; partsInFlightPerJob: number };
  /** File (or `-` for stdout) that mirrors every audit leaf as a JSON line, for a SIEM. */
  siemFile: string | undefined;
  checkpoint: { everyLeaves: number; everySeconds: number; origin: string };
  /**
   * Who may scrape `GET /metrics` (control listener): organizers and auditors always; a bearer
   * scrape token when set; anyone only when `public` is set explicitly.
   */
  metrics: { token: string | undefined; public: boolean };
}

export class ConfigError extends Error {}

const port = (name: string) =>
  z.coerce
    .number({ invalid_type_error: `${name} must be a port number` })
    .int(`${name} must be an integer port`)
    .min(0, `${name} must be 0..65535`)
    .max(65535, `${name} must be 0..65535`);

const bool = (name: string) =>
  z
    .enum(['0', '1', 'true', 'false'], { errorMap: () => ({ message: `${name} must be 0, 1, true or false` }) })
    .transform((v) => v === '1' || v === 'true');

const schema = z.object({
  CAGE_DATA_DIR: z.string().min(1).default('./.cage'),
  CAGE_HOST: z.string().min(1).default('127.0.0.1'),
  CAGE_CONTROL_PORT: port('CAGE_CONTROL_PORT').default(8080),
  CAGE_SANDBOX_PORT: port('CAGE_SANDBOX_PORT').default(8081),
  CAGE_SANDBOX_SOCKET: z.string().optional(),
  CAGE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'CAGE_DATABASE_URL must be a postgres:// URL')
    .optional(),
  CAGE_SANDBOX_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(512),
  CAGE_SANDBOX_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(64),
  CAGE_CONTROL_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(128),
  CAGE_IDLE_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(75),
  CAGE_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(300).default(20),
  CAGE_DATABASE_POOL_SIZE: z.coerce.number().int().min(2, 'CAGE_DATABASE_POOL_SIZE must be >= 2').max(500).default(10),
  CAGE_S3_ENDPOINT: z.string().url('CAGE_S3_ENDPOINT must be a URL').optional(),
  CAGE_S3_REGION: z.string().min(1).default('us-east-1'),
  CAGE_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  CAGE_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  CAGE_S3_FORCE_PATH_STYLE: bool('CAGE_S3_FORCE_PATH_STYLE').optional(),
  CAGE_S3_TIMEOUT_MS: z.coerce.number().int().positive('CAGE_S3_TIMEOUT_MS must be positive').default(10000),
  CAGE_INGEST_ROOT: z.string().min(1).optional(),
  CAGE_PSEUDONYM_KEY_FILE: z.string().min(1).optional(),
  CAGE_RAW_S3_ENDPOINT: z.string().url('CAGE_RAW_S3_ENDPOINT must be a URL').optional(),
  CAGE_RAW_S3_REGION: z.string().min(1).default('us-east-1'),
  CAGE_RAW_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  CAGE_RAW_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  CAGE_S3_API_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'CAGE_S3_API_REGION must be a region name like us-east-1')
    .default('us-east-1'),
  CAGE_S3_API_BASE_DOMAIN: z
    .string()
    .regex(
      /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
      'CAGE_S3_API_BASE_DOMAIN must be a lowercase DNS name like s3.cage.internal',
    )
    .optional(),
  CAGE_POLICY_DIR: z.string().min(1).default('./policies'),
  CAGE_DEMO: bool('CAGE_DEMO').optional(),
  CAGE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  CAGE_SIGNING_KEY: z.string().min(1).optional(),
  CAGE_LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'debug'], { errorMap: () => ({ message: 'CAGE_LOG_LEVEL must be error, warn, info or debug' }) })
    .default('info'),
  CAGE_LOG_FORMAT: z
    .enum(['json', 'pretty', 'auto'], { errorMap: () => ({ message: 'CAGE_LOG_FORMAT must be json, pretty or auto' }) })
    .default('auto'),
  CAGE_AUDIT_MAX_BATCH: z.coerce.number().int().min(1, 'CAGE_AUDIT_MAX_BATCH must be >= 1').default(512),
  CAGE_SIEM_FILE: z.string().min(1).optional(),
  CAGE_CHECKPOINT_EVERY_LEAVES: z.coerce.number().int().min(1, 'CAGE_CHECKPOINT_EVERY_LEAVES must be >= 1').default(1000),
  CAGE_CHECKPOINT_EVERY_SECONDS: z.coerce.number().min(0.1, 'CAGE_CHECKPOINT_EVERY_SECONDS must be >= 0.1').default(10),
  CAGE_CHECKPOINT_ORIGIN: z
    .string()
    .regex(/^[^\s]+$/, 'CAGE_CHECKPOINT_ORIGIN must be one word (e.g. cage.example.org/audit)')
    .default('cage.local/audit'),
  CAGE_AUDIT_MAX_DELAY_MS: z.coerce.number().min(0, 'CAGE_AUDIT_MAX_DELAY_MS must be >= 0').default(0),
  CAGE_EGRESS_CONCURRENT_PER_JOB: z.coerce
    .number()
    .int()
    .min(1, 'CAGE_EGRESS_CONCURRENT_PER_JOB must be >= 1')
    .max(64, 'CAGE_EGRESS_CONCURRENT_PER_JOB must be <= 64')
    .default(2),
  CAGE_METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9_.~+/=-]{32,512}$/, 'CAGE_METRICS_TOKEN must be 32..512 token characters (e.g. openssl rand -hex 32)')
    .optional(),
  CAGE_METRICS_PUBLIC: bool('CAGE_METRICS_PUBLIC').optional(),
  CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB: z.coerce
    .number()
    .positive('CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB must be > 0')
    .max(1000, 'CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB must be <= 1000')
    .default(2),
  CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM: z.coerce
    .number()
    .positive('CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM must be > 0')
    .max(10_000, 'CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM must be <= 10000')
    .default(5),
  CAGE_MULTIPART_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60, 'CAGE_MULTIPART_TTL_SECONDS must be 60..604800')
    .max(604_800, 'CAGE_MULTIPART_TTL_SECONDS must be 60..604800')
    .default(86_400),
  CAGE_MULTIPART_MAX_PARTS: z.coerce
    .number()
    .int()
    .min(1, 'CAGE_MULTIPART_MAX_PARTS must be 1..10000')
    .max(10_000, 'CAGE_MULTIPART_MAX_PARTS must be 1..10000')
    .default(10_000),
  CAGE_MULTIPART_OPEN_PER_JOB: z.coerce
    .number()
    .int()
    .min(1, 'CAGE_MULTIPART_OPEN_PER_JOB must be 1..1000')
    .max(1000, 'CAGE_MULTIPART_OPEN_PER_JOB must be 1..1000')
    .default(16),
  CAGE_MULTIPART_PARTS_IN_FLIGHT_PER_JOB: z.coerce
    .number()
    .int()
    .min(1, 'CAGE_MULTIPART_PARTS_IN_FLIGHT_PER_JOB must be 1..64')
    .max(64, 'CAGE_MULTIPART_PARTS_IN_FLIGHT_PER_JOB must be 1..64')
    .default(10),
  CAGE_EGRESS_PUBLISH_SECONDS: z.coerce
    .number()
    .int()
    .min(1, 'CAGE_EGRESS_PUBLISH_SECONDS must be 1..86400')
    .max(86_400, 'CAGE_EGRESS_PUBLISH_SECONDS must be 1..86400')
    .default(60),
  CAGE_EGRESS_OVER_LIMIT_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0, 'CAGE_EGRESS_OVER_LIMIT_DELAY_MS must be >= 0')
    .max(60_000, 'CAGE_EGRESS_OVER_LIMIT_DELAY_MS must be <= 60000')
    .default(1000),
});

/** Parses the environment; throws ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CageConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('CAGE_') && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const embedded = e.CAGE_S3_ENDPOINT === undefined;
  if (!embedded && (e.CAGE_S3_ACCESS_KEY_ID === undefined) !== (e.CAGE_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('invalid configuration:\n  CAGE_S3_ACCESS_KEY_ID and CAGE_S3_SECRET_ACCESS_KEY must be set together');
  }
  if (
    e.CAGE_RAW_S3_ENDPOINT !== undefined &&
    (e.CAGE_RAW_S3_ACCESS_KEY_ID === undefined || e.CAGE_RAW_S3_SECRET_ACCESS_KEY === undefined)
  ) {
    throw new ConfigError(
      'invalid configuration:\n  CAGE_RAW_S3_ENDPOINT needs CAGE_RAW_S3_ACCESS_KEY_ID and CAGE_RAW_S3_SECRET_ACCESS_KEY',
    );
  }
  const dataDir = isAbsolute(e.CAGE_DATA_DIR) ? e.CAGE_DATA_DIR : resolve(e.CAGE_DATA_DIR);
  return {
    dataDir,
    host: e.CAGE_HOST,
    controlPort: e.CAGE_CONTROL_PORT,
    sandboxPort: e.CAGE_SANDBOX_PORT,
    // Default: in the data dir (mode 0700, so no other user reaches it); `off` for none. A path
    // longer than a Unix socket's limit (107 bytes) is refused when asked for, skipped by default.
    sandboxSocket: sandboxSocketOf(e.CAGE_SANDBOX_SOCKET, dataDir),
    databaseUrl: e.CAGE_DATABASE_URL,
    databasePoolSize: e.CAGE_DATABASE_POOL_SIZE,
    connections: {
      sandboxMax: e.CAGE_SANDBOX_MAX_CONNECTIONS,
      sandboxPerAddress: e.CAGE_SANDBOX_MAX_CONNECTIONS_PER_ADDRESS,
      controlMax: e.CAGE_CONTROL_MAX_CONNECTIONS,
      idleSeconds: e.CAGE_IDLE_TIMEOUT_SECONDS,
      headersSeconds: e.CAGE_HEADERS_TIMEOUT_SECONDS,
    },
    s3: {
      endpoint: e.CAGE_S3_ENDPOINT,
      region: e.CAGE_S3_REGION,
      // s3rver accepts any key pair; these are its documented defaults.
      accessKeyId: e.CAGE_S3_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: e.CAGE_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
      forcePathStyle: e.CAGE_S3_FORCE_PATH_STYLE ?? true,
      timeoutMs: e.CAGE_S3_TIMEOUT_MS,
    },
    s3Api: { region: e.CAGE_S3_API_REGION, baseDomain: e.CAGE_S3_API_BASE_DOMAIN },
    ingest: {
      root: resolve(e.CAGE_INGEST_ROOT ?? resolve(dataDir, 'incoming')),
      pseudonymKeyFile: e.CAGE_PSEUDONYM_KEY_FILE,
      rawS3:
        e.CAGE_RAW_S3_ENDPOINT === undefined
          ? undefined
          : {
              endpoint: e.CAGE_RAW_S3_ENDPOINT,
              region: e.CAGE_RAW_S3_REGION,
              accessKeyId: e.CAGE_RAW_S3_ACCESS_KEY_ID!,
              secretAccessKey: e.CAGE_RAW_S3_SECRET_ACCESS_KEY!,
              forcePathStyle: true,
            },
    },
    policyDir: resolve(e.CAGE_POLICY_DIR),
    demo: e.CAGE_DEMO ?? (embedded && e.CAGE_DATABASE_URL === undefined),
    signingKeyFile: e.CAGE_SIGNING_KEY_FILE,
    signingKey: e.CAGE_SIGNING_KEY,
    logLevel: e.CAGE_LOG_LEVEL,
    logFormat: e.CAGE_LOG_FORMAT,
    audit: { maxBatch: e.CAGE_AUDIT_MAX_BATCH, maxDelayMs: e.CAGE_AUDIT_MAX_DELAY_MS },
    egress: {
      concurrentPerJob: e.CAGE_EGRESS_CONCURRENT_PER_JOB,
      attemptsPerSecondPerJob: e.CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB,
      attemptsPerSecondPerTeam: e.CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM,
      overLimitDelayMs: e.CAGE_EGRESS_OVER_LIMIT_DELAY_MS,
      publishSeconds: e.CAGE_EGRESS_PUBLISH_SECONDS,
    },
    multipart: {
      ttlSeconds: e.CAGE_MULTIPART_TTL_SECONDS,
      maxParts: e.CAGE_MULTIPART_MAX_PARTS,
      openPerJob: e.CAGE_MULTIPART_OPEN_PER_JOB,
      partsInFlightPerJob: e.CAGE_MULTIPART_PARTS_IN_FLIGHT_PER_JOB,
    },
    siemFile: e.CAGE_SIEM_FILE,
    checkpoint: {
      everyLeaves: e.CAGE_CHECKPOINT_EVERY_LEAVES,
      everySeconds: e.CAGE_CHECKPOINT_EVERY_SECONDS,
      origin: e.CAGE_CHECKPOINT_ORIGIN,
    },
    metrics: { token: e.CAGE_METRICS_TOKEN, public: e.CAGE_METRICS_PUBLIC ?? false },
  };
}

/** Injection token for the parsed configuration. */
export const CAGE_CONFIG = Symbol('CAGE_CONFIG');

function sandboxSocketOf(asked: string | undefined, dataDir: string): string | undefined {
  if (asked === 'off') return undefined;
  const path = asked === undefined || asked === '' ? resolve(dataDir, 'sandbox.sock') : resolve(asked);
  if (Buffer.byteLength(path) <= 107) return path;
  if (asked !== undefined && asked !== '')
    throw new ConfigError(`CAGE_SANDBOX_SOCKET is longer than a Unix socket path may be (107 bytes): ${path}`);
  return undefined;
}
