import { Module } from '@nestjs/common';
import { Clock } from '../clock/clock';
import { Database } from '../db/database';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { construct } from '../ops/provide';
import { OidcIssuerRepository } from './oidc-issuer.repository';
import { OidcIssuers } from './oidc-issuers';
import { TokenRevocationRepository } from './token-revocation.repository';
import { TokenService } from './token.service';

/** Who is asking: the gateway's own tokens (signed with the key ring) and the external OIDC issuers organizers register. */
@Module({
  providers: [
    construct(TokenService, [SigningKeyRing]),
    construct(OidcIssuerRepository, [Database]),
    construct(TokenRevocationRepository, [Database]),
    {
      provide: OidcIssuers,
      inject: [OidcIssuerRepository, Clock],
      useFactory: (repo: OidcIssuerRepository, clock: Clock) => new OidcIssuers(repo, () => clock.now().getTime()),
    },
  ],
  exports: [TokenService, OidcIssuers, TokenRevocationRepository],
})
export class AuthModule {}
