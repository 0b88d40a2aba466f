/*
 * Generated from openapi/control.json by scripts/openapi-cli-types.mjs (npm run openapi): do not
 * edit. The shapes come from the zod models the controllers validate with and declare; the CLI
 * names the ones it uses in api-types.ts.
 */

export interface paths {
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: the process serves HTTP */
    get: operations['HealthController_healthz'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness: start-up finished (bootstrap written), and the database and the object store answer */
    get: operations['HealthController_readyz'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Audit leaves in index order, filtered, paginated by cursor */
    get: operations['AuditController_find'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/checkpoint': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The latest signed checkpoint (C2SP tlog-checkpoint note, text/plain) */
    get: operations['AuditProofController_checkpoint'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/checkpoint/key': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The active checkpoint verifier key: name+keyid+base64(0x01‖Ed25519 key) */
    get: operations['AuditProofController_key'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/checkpoint/keys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every checkpoint key, oldest first, with its validity window [notBefore, notAfter): checkpoints signed before a rotation verify with the key that was active then */
    get: operations['AuditProofController_keys'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/checkpoints': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Signed checkpoints, newest first (up to maxSize), for offline verification */
    get: operations['AuditProofController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/proof/inclusion': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** RFC 6962 inclusion proof of leaf `index` in the tree of `size` (default: latest checkpoint) */
    get: operations['AuditProofController_inclusion'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/proof/consistency': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** RFC 6962 consistency proof between tree sizes `from` and `to` (default: latest checkpoint) */
    get: operations['AuditProofController_consistency'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Leaves [from, to) streamed as JSONL (each line exactly the leaf bytes) or CSV; `to` defaults to the latest checkpoint size */
    get: operations['AuditProofController_export'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/audit/leaf-hashes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The tree’s leaf hashes [from, to), one hex per line: lets a verifier name the first bad index */
    get: operations['AuditProofController_leafHashes'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/reports/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Per team: artifacts released and rejected (by reason), bits released, bytes read per dataset, denied reads */
    get: operations['ComplianceReportsController_teams'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/reports/policy': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every policy activation and rejection, with the SHA-256 of the set */
    get: operations['ComplianceReportsController_policies'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/reports/airlock': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every airlock decision: holds, reviews, releases and rejections of reviewed artifacts */
    get: operations['ComplianceReportsController_airlock'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/egress': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Egress artifacts: every row whole, oldest first; a contestant their team’s rows as TeamArtifactView (published slots only), by day then id */
    get: operations['EgressAdminController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/egress/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One artifact: receipt, reasons, reviews (a contestant: the team view, reviews as decision and comment) */
    get: operations['EgressAdminController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/egress/{id}/content': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The released bytes (released artifacts only), exactly what the release leaf hashes */
    get: operations['EgressAdminController_content'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/egress/{id}/held': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The canonical content of a held text artifact, for its reviewers */
    get: operations['EgressAdminController_held'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/egress/{id}/reviews': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Approve or reject a held artifact (two distinct compliance officers release it; one reject rejects) */
    post: operations['EgressAdminController_review'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/leaderboard': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The public leaderboard (shown scores), and after the close the private ranking */
    get: operations['LeaderboardController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/leaderboard/close': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Close the competition: score each team's final submissions on the private part, publish the ranking (once) */
    post: operations['LeaderboardController_close'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/submissions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Submissions as the Ladder showed them (a contestant: their team's; organizers and auditors: with exact scores) */
    get: operations['LeaderboardController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/submissions/{id}/selection': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Select (or unselect) one of the team’s final submissions, before the close */
    post: operations['LeaderboardController_select'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Datasets with their splits and index figures */
    get: operations['DatasetAdminController_list'];
    put?: never;
    /** Register a dataset: bucket, prefix, split layout (the bucket must be reachable) */
    post: operations['DatasetAdminController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One dataset with its splits and index figures */
    get: operations['DatasetAdminController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets/{id}/index': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Progress of the latest index run */
    get: operations['DatasetAdminController_indexRun'];
    put?: never;
    /** Index a dataset in the background (manifest, series, counts); re-runnable */
    post: operations['DatasetAdminController_index'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets/{id}/manifest/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Compare an ingested dataset's bucket with its manifest: unexpected, changed and missing objects (an audit leaf) */
    post: operations['DatasetAdminController_verifyManifest'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets/{id}/ingest': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Start an ingest run: de-identify a raw source into the dataset (background; re-runnable, resumes) */
    post: operations['IngestController_start'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/datasets/{id}/ingests': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A dataset's ingest runs, newest first (source paths: organizers only) */
    get: operations['IngestController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/ingests/{run}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One ingest run: progress, and when done, what was stripped and refused (source paths: organizers only) */
    get: operations['IngestController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/ingests/{run}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Stop a run after the file in hand (run it again to resume) */
    post: operations['IngestController_cancel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Teams with their member counts */
    get: operations['TeamsController_list'];
    put?: never;
    /** Create a team */
    post: operations['TeamsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/teams/{id}/members': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A team's current members */
    get: operations['TeamsController_members'];
    put?: never;
    /** Add a person (subject and issuer of their token) to a team */
    post: operations['TeamsController_addMember'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/teams/{id}/members/{subject}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** End a membership; it is kept as a former one (reviewer independence) */
    delete: operations['TeamsController_removeMember'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/grants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Grants, filtered by team, dataset, and whether in force now */
    get: operations['GrantsController_list'];
    put?: never;
    /** Grant a team a dataset split between notBefore and notAfter */
    post: operations['GrantsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/grants/{id}/revoke': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke a grant: every replica refuses its next request within 1 s */
    post: operations['GrantsController_revoke'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Job credentials (never their secrets), filtered by team and whether in force now */
    get: operations['JobsController_list'];
    put?: never;
    /** Issue job credentials (JWT + S3 access key); the secret is shown once */
    post: operations['JobsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/revoke': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke a job: its token and access key stop within 1 s */
    post: operations['JobsController_revoke'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/policy': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The active policy set: version, SHA-256, activated when and by whom */
    get: operations['PolicyController_active'];
    put?: never;
    /** Activate a policy set (422 naming the failing expectation; the old set keeps deciding) */
    post: operations['PolicyController_activate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/policy/versions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every policy version ever activated, oldest first */
    get: operations['PolicyController_versions'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/policy/check': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Validate a policy set and run its expectations, without activating it */
    post: operations['PolicyController_check'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/policy/rollback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Activate an earlier version again (as a new version) */
    post: operations['PolicyController_rollback'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Issue a user token (organizer, auditor, or contestant of a team) */
    post: operations['TokensController_issue'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tokens/refresh': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Exchange your own token for a fresh one: same subject, role and team, the same lifetime from now; the old token is revoked (every replica within 1 s) */
    post: operations['TokensController_refresh'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tokens/{id}/revoke': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke one user token by its id: refused on every replica within 1 s */
    post: operations['TokensController_revoke'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tokens/revoke-subject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke every user token of a subject issued up to now (a person who left); tokens issued later work */
    post: operations['TokensController_revokeSubject'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/issuers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The external OIDC issuers whose tokens are accepted */
    get: operations['IssuersController_list'];
    put?: never;
    /** Accept tokens from an external OIDC issuer (its JWKS is fetched and checked first) */
    post: operations['IssuersController_add'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/signing': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every signing key, oldest first, with its validity window and until when its tokens are accepted */
    get: operations['SigningKeyController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/signing/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Retire the active signing key and make a new one active on every replica (within 1 s). The retired key keeps verifying its checkpoints; its tokens are accepted for tokenGraceSeconds (default: until they expire; 0: refused at once). Logged as keys.rotate. */
    post: operations['SigningKeyController_rotate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Prometheus metrics (text format 0.0.4): an organizer or auditor token, or the scrape token (CAGE_METRICS_TOKEN) */
    get: operations['MetricsController_scrape'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    ApiError: {
      /** @description a stable code: bad_request, unauthorized, forbidden, not_found, conflict, … */
      error: string;
      /** @description what was wrong, for people; never an echo of what was submitted */
      message: string;
      requestId: string;
    } & {
      [key: string]: unknown;
    };
    /** @description an egress row, whole (organizers and auditors) */
    Artifact: {
      id: string;
      team: string;
      jobId: string;
      kind: string;
      /** @enum {string} */
      status: 'releasing' | 'released' | 'pending_review' | 'rejected' | 'failed';
      /** @description the UTC day it is charged to */
      day: string;
      submittedSha256: string;
      submittedBytes: number;
      /** @description of the canonical bytes (released or held) */
      sha256: string | null;
      bytes: number | null;
      /** @description charged to the team */
      bits: number;
      reasons: {
        /** @description a stable reason code */
        code: string;
        line?: number;
        field?: string;
        /** @description never an echo of the content */
        message: string;
      }[];
      outboxKey: string | null;
      auditIndex: number | null;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      decidedAt: string | null;
    };
    ArtifactDetail: components['schemas']['ArtifactWithReviews'] | components['schemas']['TeamArtifactWithReviews'];
    ArtifactWithReviews: {
      artifact: components['schemas']['Artifact'];
      reviews: components['schemas']['Review'][];
    };
    AuditEventList: {
      events: {
        index: number;
        /** Format: date-time */
        time: string;
        principal: string;
        team: string | null;
        action: string;
        decision: string;
        resource: string | null;
        /** @description the leaf's detail, as JSON text */
        detail: string;
      }[];
    };
    /** @description one decision, egress step or change; its bytes (canonical JSON) are what the tree hashes */
    AuditLeaf: {
      /** @enum {number} */
      v: 1;
      /** Format: date-time */
      time: string;
      requestId: string;
      /** @description job:<id>, user:<sub>, or gateway for its own acts */
      principal: string;
      team: string | null;
      /** @enum {string} */
      listener: 'sandbox' | 'control' | 'internal';
      action: string;
      /** @enum {string} */
      decision: 'allow' | 'deny' | 'error' | 'info';
      /** @description the HTTP status answered, when the leaf records a request */
      status: number | null;
      resource: {
        type: string;
        dataset?: string;
        /** @description object key bytes as sent to the store, hex */
        keyHex?: string;
        id?: string;
      } | null;
      /** @description the single range served, start-end inclusive */
      range: string | null;
      /** @description the policy ids that determined the decision */
      policies: string[];
      /** @description SHA-256 of the policy set that decided */
      policySet: string | null;
      bytes: number;
      /** @description of what was egressed, for egress leaves */
      sha256: string | null;
      detail: {
        [key: string]: unknown;
      } | null;
    };
    AuditPage: {
      leaves: components['schemas']['StoredLeaf'][];
      /** @description null on the last page */
      nextCursor: string | null;
    };
    CheckpointList: {
      checkpoints: {
        size: number;
        root: string;
        /** Format: date-time */
        createdAt: string;
        /** @description C2SP tlog-checkpoint */
        note: string;
      }[];
    };
    ConsistencyProof: {
      from: number;
      to: number;
      fromRoot: string;
      toRoot: string;
      proof: string[];
    };
    Dataset: {
      id: string;
      bucket: string;
      prefix: string;
      title: string;
      splits: components['schemas']['Split'][];
      /** @description ingested: only the objects its manifest lists are served */
      manifestEnforced?: boolean;
      /** @description null until indexed */
      objects: number | null;
      /** @description null until indexed */
      bytes: number | null;
      series: number;
      /** Format: date-time */
      indexedAt: string | null;
      /** Format: date-time */
      createdAt: string;
      createdBy: string;
    };
    DatasetList: {
      datasets: components['schemas']['Dataset'][];
    };
    EgressPage: {
      /** @description whole rows, or a contestant their team’s views */
      artifacts: components['schemas']['Artifact'][] | components['schemas']['TeamArtifactView'][];
      nextCursor: string | null;
    };
    Grant: {
      id: string;
      team: string;
      dataset: string;
      split: string;
      /** Format: date-time */
      notBefore: string;
      /** Format: date-time */
      notAfter: string;
      byteQuota: number | null;
      /** Format: date-time */
      createdAt: string;
      createdBy: string;
      /** Format: date-time */
      revokedAt: string | null;
      revokedBy: string | null;
      /** @enum {string} */
      state: 'active' | 'scheduled' | 'expired' | 'revoked';
    };
    GrantList: {
      grants: components['schemas']['Grant'][];
    };
    InclusionProof: {
      index: number;
      size: number;
      leafHash: string;
      root: string;
      proof: string[];
    };
    IndexRun: {
      id: string;
      dataset: string;
      /** @enum {string} */
      state: 'running' | 'done' | 'failed';
      objectsSeen: number;
      bytesSeen: number;
      seriesIndexed: number;
      /** Format: date-time */
      startedAt: string;
      /** Format: date-time */
      finishedAt: string | null;
      error: string | null;
    };
    IngestRun: {
      id: string;
      dataset: string;
      /** @description shown to organizers only; others see "(shown to organizers only)" */
      source: string;
      target: string;
      /** @enum {string} */
      state: 'running' | 'done' | 'partial' | 'cancelled' | 'failed' | 'interrupted';
      filesTotal: number;
      filesDone: number;
      filesWritten: number;
      filesSkipped: number;
      filesRefused: number;
      bytesWritten: number;
      /** @description when the run is over */
      summary: {
        /** @description how many attributes, keys or columns each rule applied to, by reason code (`DICOM E.1-1 X`, `DICOM default deny`, `CSV columns (X)`): counts only, never a name or value from the export */
        stripped: {
          [key: string]: number;
        };
        /** @description at most 1000 listed */
        refused: {
          /** @description shown to organizers only; others see "(shown to organizers only)" */
          path: string;
          reason: string;
        }[];
        refusedTotal: number;
        /** @description earlier outputs of this source it no longer yields, taken out of the manifest and the bucket */
        withdrawn: number;
        manifestSha256: string | null;
        manifestEntries: number;
      } | null;
      /** Format: date-time */
      startedAt: string;
      startedBy: string;
      /** Format: date-time */
      finishedAt: string | null;
      error: string | null;
    };
    IngestRunList: {
      runs: components['schemas']['IngestRun'][];
    };
    IssuedToken: {
      token: string;
      /** @description its id: what `cage token revoke` names */
      tokenId: string;
      /** Format: date-time */
      expiresAt: string;
    };
    Issuer: {
      issuer: string;
      jwksUrl: string;
      audience: string;
      roleClaim: string;
    };
    IssuerList: {
      issuers: components['schemas']['Issuer'][];
    };
    Job: {
      jobId: string;
      team: string;
      accessKeyId: string | null;
      /** Format: date-time */
      createdAt: string;
      createdBy: string;
      /** Format: date-time */
      expiresAt: string;
      /** Format: date-time */
      revokedAt: string | null;
      /** @enum {string} */
      state: 'active' | 'expired' | 'revoked';
    };
    JobCredentials: {
      jobId: string;
      team: string;
      /** @description the job JWT (sandbox listener, REST) */
      token: string;
      accessKeyId: string;
      /** @description shown once, at issue; the gateway keeps it only sealed */
      secretAccessKey: string;
      /** Format: date-time */
      expiresAt: string;
    };
    JobList: {
      jobs: components['schemas']['Job'][];
    };
    Leaderboard: {
      /** @description the competition’s egress kind (policies/egress/<kind>.json) */
      competition: string;
      metric: string;
      ladderStep: number;
      closed: boolean;
      closedAt: string | null;
      /** @description each team’s shown score (the Ladder’s, on the public part), best first */
      public: components['schemas']['LeaderboardRow'][];
      /** @description after the close: each team’s best private score among its final submissions */
      private: components['schemas']['LeaderboardRow'][] | null;
    };
    LeaderboardRow: {
      rank: number;
      team: string;
      score: number;
      submissions: number;
    };
    Liveness: {
      /** @enum {string} */
      status: 'ok';
    };
    ManifestReport: {
      dataset: string;
      /** @description objects found in the bucket under the dataset prefix */
      checked: number;
      /** @description entries in the manifest */
      listed: number;
      /** @description in the bucket, not in the manifest (never served) */
      unexpected: string[];
      /** @description in both, with another size or ETag (never served) */
      changed: string[];
      /** @description in the manifest, gone from the bucket */
      missing: string[];
    };
    Member: {
      team: string;
      subject: string;
      issuer: string;
      /** Format: date-time */
      addedAt: string;
    };
    MemberList: {
      members: components['schemas']['Member'][];
    };
    NewDataset: {
      id: string;
      bucket: string;
      /** @description the dataset's key prefix in the bucket: '' or ending in / */
      prefix: string;
      title?: string;
      splits: {
        name: string;
        /** @enum {string} */
        kind: 'train' | 'val' | 'test' | 'labels';
        /** @description relative to the dataset prefix, ending in /; splits do not nest */
        prefix: string;
      }[];
    };
    NewGrant: {
      team: string;
      dataset: string;
      split: string;
      /** Format: date-time */
      notBefore: string;
      /** Format: date-time */
      notAfter: string;
      /** @description bytes the team may read under this grant (default: no quota) */
      byteQuota?: number;
    };
    NewIngest: {
      /** @description a directory under the gateway's CAGE_INGEST_ROOT, or s3://bucket/prefix on the raw-data store */
      source: string;
      target: string;
      /** @description label CSV columns that survive (without it CSVs are refused) */
      csvColumns?: string[];
      /** @description of those, the columns holding series or patient identifiers */
      csvPseudonymize?: string[];
      /**
       * @description pseudonym domain: datasets in one domain share pseudonyms
       * @default default
       */
      domain?: string;
      /** @description cleanse at most this many files in this run */
      limit?: number;
    };
    NewIssuer: {
      /** Format: uri */
      issuer: string;
      /** Format: uri */
      jwksUrl: string;
      audience: string;
      /** @default cage_role */
      roleClaim?: string;
    };
    NewJob: {
      team: string;
      /** @default 3600 */
      ttlSeconds?: number;
    };
    NewMember: {
      /** @description the person's `sub` */
      subject: string;
      /**
       * Format: uri
       * @description who issued the subject (default: the gateway's own tokens)
       */
      issuer?: string;
    };
    NewReview: {
      /** @enum {string} */
      decision: 'approve' | 'reject';
      comment: string;
    };
    NewTeam: {
      id: string;
      name: string;
    };
    NewToken: {
      subject: string;
      /** @enum {string} */
      role: 'organizer' | 'auditor' | 'contestant';
      /** @description required for a contestant, refused otherwise */
      team?: string;
      /** @description default: 12 h for an organizer or auditor, 7 days for a contestant */
      ttlSeconds?: number;
    };
    PolicyCheck: {
      ok: boolean;
      /** @description of the candidate set; null when it does not compile */
      sha256: string | null;
      /** @description schema and validation errors */
      errors: string[];
      /** @description the set's tests/*.json, each run against the candidate */
      expectations: {
        name: string;
        passed: boolean;
        message: string;
      }[];
    };
    PolicyFiles: {
      /** @description the whole policy directory by relative path: schema.cedarschema, *.cedar, egress/*.json, budget.json, tests/*.json */
      files: {
        [key: string]: string;
      };
    };
    PolicyRefused: {
      /** @description a stable code: bad_request, unauthorized, forbidden, not_found, conflict, … */
      error: string;
      /** @description what was wrong, for people; never an echo of what was submitted */
      message: string;
      requestId: string;
      errors: string[];
      failures: {
        expectation: string;
        message: string;
      }[];
    };
    PolicyRollback: {
      /** @description the version whose files to activate again */
      version: number;
    };
    PolicyVersion: {
      version: number;
      /** @description of the policy set */
      sha256: string;
      /** Format: date-time */
      activatedAt: string;
      activatedBy: string;
      files: string[];
      active: boolean;
    };
    PolicyVersionList: {
      versions: components['schemas']['PolicyVersion'][];
    };
    Readiness: {
      /** @enum {string} */
      status: 'ready';
      /** @description startup, database, objectStore: each "ok" when ready */
      checks: {
        [key: string]: string;
      };
    };
    RegisteredIssuer: {
      issuer: string;
      jwksUrl: string;
      audience: string;
      roleClaim: string;
      /** @description keys its JWKS holds now */
      keys: number;
    };
    Review: {
      reviewer: string;
      /** @enum {string} */
      decision: 'approve' | 'reject';
      comment: string;
      /** Format: date-time */
      createdAt: string;
      auditIndex: number;
    };
    RotateSigningKey: {
      /** @description how long the retired key's tokens are still accepted: 0 refuses them at once; unset, until they expire */
      tokenGraceSeconds?: number;
    };
    SigningKey: {
      /** @description the checkpoint note key id (8 hex digits) */
      keyId: string;
      /** @description name+keyid+base64(0x01‖Ed25519 key): what a verifier pins */
      verifierKey: string;
      /** @description the same key in JWT headers */
      kid: string;
      /** Format: date-time */
      notBefore: string;
      /**
       * Format: date-time
       * @description null: the active key
       */
      notAfter: string | null;
      /**
       * Format: date-time
       * @description until when the retired key's tokens are accepted
       */
      tokensUntil: string | null;
      active: boolean;
    };
    SigningKeyList: {
      keys: components['schemas']['SigningKey'][];
    };
    SigningKeyRotation: {
      retired: components['schemas']['SigningKey'];
      active: components['schemas']['SigningKey'];
    };
    Split: {
      name: string;
      /** @enum {string} */
      kind: 'train' | 'val' | 'test' | 'labels';
      prefix: string;
    };
    StoredLeaf: {
      index: number;
      /** @description RFC 6962 leaf hash */
      hash: string;
      leaf: components['schemas']['AuditLeaf'];
    };
    SubjectRevocation: {
      /** @description every token of this subject issued up to now */
      subject: string;
    };
    Submission: {
      id: string;
      team: string;
      day: string;
      /** @description the score the Ladder showed after this submission */
      shownScore: number;
      improved: boolean;
      /** @description one of the team’s final submissions (scored on the private part at the close) */
      selected: boolean;
      /** @description organizers and auditors only: the exact public score */
      publicScore?: number;
      /** @description organizers and auditors only: the private score (after the close) */
      privateScore?: number | null;
    };
    SubmissionList: {
      submissions: components['schemas']['Submission'][];
    };
    SubmissionSelection: {
      /** @description true: a final submission; false: not */
      selected: boolean;
    };
    Team: {
      id: string;
      name: string;
      members: number;
      /** Format: date-time */
      createdAt: string;
    };
    /** @description an egress row as its team's contestants see it */
    TeamArtifactView: {
      id: string;
      team: string;
      kind: string;
      /** @enum {string} */
      status: 'releasing' | 'released' | 'pending_review' | 'rejected' | 'failed';
      day: string;
      sha256: string | null;
      bytes: number | null;
      bits: number;
      reasons: {
        /** @description a stable reason code */
        code: string;
        line?: number;
        field?: string;
        /** @description never an echo of the content */
        message: string;
      }[];
    };
    TeamArtifactWithReviews: {
      artifact: components['schemas']['TeamArtifactView'];
      reviews: components['schemas']['TeamReview'][];
    };
    TeamList: {
      teams: components['schemas']['Team'][];
    };
    TeamReportList: {
      teams: {
        team: string;
        /** @description artifacts released, per kind */
        released: {
          [key: string]: number;
        };
        /** @description artifacts rejected, per kind */
        rejected: {
          [key: string]: number;
        };
        rejectedByReason: {
          [key: string]: number;
        };
        bitsReleased: number;
        bitsBudgetPerDay: number;
        bytesReadByDataset: {
          [key: string]: number;
        };
        readsDenied: number;
      }[];
    };
    TeamReview: {
      /** @enum {string} */
      decision: 'approve' | 'reject';
      comment: string;
    };
    TokenRevocation: {
      tokenId?: string;
      subject?: string;
      /**
       * Format: date-time
       * @description refused on every replica within 1 s of this
       */
      revokedAt: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  HealthController_healthz: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Liveness'];
        };
      };
    };
  };
  HealthController_readyz: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Not ready: the message names what is not */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditController_find: {
    parameters: {
      query?: {
        /** @description ISO 8601, inclusive */
        from?: string;
        /** @description ISO 8601, exclusive */
        to?: string;
        /** @description job:<id> or user:<sub> */
        principal?: string;
        team?: string;
        action?: string;
        decision?: 'allow' | 'deny' | 'error' | 'info';
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditPage'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_checkpoint: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The note */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No checkpoint yet */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_key: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The key, one line */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_keys: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SigningKeyList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_list: {
    parameters: {
      query?: {
        /** @description only checkpoints of at most this many leaves */
        maxSize?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CheckpointList'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_inclusion: {
    parameters: {
      query: {
        index: number;
        /** @description tree size (default: the latest checkpoint) */
        size?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['InclusionProof'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_consistency: {
    parameters: {
      query: {
        from: number;
        /** @description tree size (default: the latest checkpoint) */
        to?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConsistencyProof'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_export: {
    parameters: {
      query?: {
        from?: number;
        /** @description exclusive (default: the latest checkpoint size) */
        to?: number;
        format?: 'jsonl' | 'csv';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The leaves; x-cage-from and x-cage-to say which */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/x-ndjson': string;
          'text/csv': string;
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  AuditProofController_leafHashes: {
    parameters: {
      query?: {
        from?: number;
        /** @description exclusive (default: the latest checkpoint size) */
        to?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One `index hash` line per leaf */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  ComplianceReportsController_teams: {
    parameters: {
      query?: {
        from?: string;
        /** @description exclusive (default: now) */
        to?: string;
        format?: 'json' | 'csv';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description JSON, or CSV with format=csv */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TeamReportList'];
          'text/csv': string;
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  ComplianceReportsController_policies: {
    parameters: {
      query?: {
        from?: string;
        /** @description exclusive (default: now) */
        to?: string;
        format?: 'json' | 'csv';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description JSON, or CSV with format=csv */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditEventList'];
          'text/csv': string;
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  ComplianceReportsController_airlock: {
    parameters: {
      query?: {
        from?: string;
        /** @description exclusive (default: now) */
        to?: string;
        format?: 'json' | 'csv';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description JSON, or CSV with format=csv */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditEventList'];
          'text/csv': string;
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  EgressAdminController_list: {
    parameters: {
      query?: {
        status?: 'releasing' | 'released' | 'pending_review' | 'rejected' | 'failed';
        kind?: string;
        team?: string;
        /** @description the nextCursor of the previous page */
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EgressPage'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  EgressAdminController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ArtifactDetail'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such artifact, or not the caller’s to see */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  EgressAdminController_content: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The canonical bytes; x-cage-sha256 is their SHA-256 */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/octet-stream': string;
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such artifact, or nothing released */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  EgressAdminController_held: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The canonical text */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such artifact, or not held */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Not a text kind */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  EgressAdminController_review: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewReview'];
      };
    };
    responses: {
      /** @description The artifact after the review, with every review */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ArtifactWithReviews'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such artifact, or not held */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  LeaderboardController_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Leaderboard'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  LeaderboardController_close: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Leaderboard'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  LeaderboardController_list: {
    parameters: {
      query?: {
        /** @description one team (a contestant: always their own) */
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SubmissionList'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  LeaderboardController_select: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SubmissionSelection'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Submission'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DatasetList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewDataset'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Dataset'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description A dataset with this id exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Dataset'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_indexRun: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IndexRun'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset, or never indexed */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_index: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run as started */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IndexRun'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description A run is in progress */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  DatasetAdminController_verifyManifest: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ManifestReport'];
        };
      };
      /** @description The dataset was never ingested: it has no manifest */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IngestController_start: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewIngest'];
      };
    };
    responses: {
      /** @description The run as started */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IngestRun'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description A run into this dataset is in progress */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IngestController_list: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IngestRunList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such dataset */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IngestController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IngestRun'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such run */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IngestController_cancel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run, as it was when asked to stop */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IngestRun'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such run */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The run is not running */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TeamsController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TeamList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TeamsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewTeam'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Team'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description A team with this id exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TeamsController_members: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MemberList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such team */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TeamsController_addMember: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewMember'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Member'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such team */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Already a member */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TeamsController_removeMember: {
    parameters: {
      query?: {
        /** @description the issuer of the subject (default: none) */
        issuer?: string;
      };
      header?: never;
      path: {
        id: string;
        subject: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Not a member of this team */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  GrantsController_list: {
    parameters: {
      query?: {
        team?: string;
        dataset?: string;
        active?: 'true' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GrantList'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  GrantsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewGrant'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Grant'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such team, dataset or split */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Overlaps an unrevoked grant of the same team and split */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  GrantsController_revoke: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Grant'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such grant */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Already revoked */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  JobsController_list: {
    parameters: {
      query?: {
        team?: string;
        active?: 'true' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JobList'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  JobsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewJob'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JobCredentials'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such team */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  JobsController_revoke: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Already revoked */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  PolicyController_active: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyVersion'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  PolicyController_activate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PolicyFiles'];
      };
    };
    responses: {
      /** @description The new active version */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyVersion'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Another activation took effect meanwhile; nothing was activated */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Refused: the set does not validate or an expectation fails */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyRefused'];
        };
      };
    };
  };
  PolicyController_versions: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyVersionList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  PolicyController_check: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PolicyFiles'];
      };
    };
    responses: {
      /** @description The verdict (ok: false names every error and failing expectation) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyCheck'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  PolicyController_rollback: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PolicyRollback'];
      };
    };
    responses: {
      /** @description The new active version, with the files of the one named */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyVersion'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No such version */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Another activation took effect meanwhile; nothing was activated */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Refused: those files no longer pass */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PolicyRefused'];
        };
      };
    };
  };
  TokensController_issue: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewToken'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedToken'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TokensController_refresh: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedToken'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TokensController_revoke: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TokenRevocation'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Revoked already */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  TokensController_revokeSubject: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SubjectRevocation'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TokenRevocation'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IssuersController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuerList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  IssuersController_add: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewIssuer'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RegisteredIssuer'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Already registered */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  SigningKeyController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SigningKeyList'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  SigningKeyController_rotate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['RotateSigningKey'];
      };
    };
    responses: {
      /** @description The retired key and the new active one */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SigningKeyRotation'];
        };
      };
      /** @description Bad input (the message names each field, unknown ones included); nothing changed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description No, bad, expired or revoked credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not use this route */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description Another rotation came first */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
  MetricsController_scrape: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The exposition text */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description No, bad or expired credential */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
      /** @description The caller's role may not read metrics */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApiError'];
        };
      };
    };
  };
}
