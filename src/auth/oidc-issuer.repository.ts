import { type Database } from '../db/database';

export interface OidcIssuer {
  issuer: string;
  jwksUrl: string;
  audience: string;
  roleClaim: string;
}

/** External identity providers whose tokens the control listener accepts. */
export class OidcIssuerRepository {
  constructor(private readonly db: Database) {}

  /** False when the issuer is registered already. */
  async insert(i: OidcIssuer, at: Date, by: string): Promise<boolean> {
    const r = await this.db.query(
      'INSERT INTO oidc_issuers (issuer, jwks_url, audience, role_claim, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [i.issuer, i.jwksUrl, i.audience, i.roleClaim, at.toISOString(), by],
    );
    return r.rowCount > 0;
  }

  async list(): Promise<OidcIssuer[]> {
    const { rows } = await this.db.query<{ issuer: string; jwks_url: string; audience: string; role_claim: string }>(
      'SELECT issuer, jwks_url, audience, role_claim FROM oidc_issuers ORDER BY issuer',
    );
    return rows.map((r) => ({ issuer: r.issuer, jwksUrl: r.jwks_url, audience: r.audience, roleClaim: r.role_claim }));
  }
}
