import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type AppAction, type AppSubject } from './abilities';

export const IS_PUBLIC = 'cage:public';
export const REQUIRED_ABILITY = 'cage:ability';
export const AUTH_STRATEGY = 'cage:auth-strategy';

/** Opts a route out of authentication (health, docs). Everything else is closed by default. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Authenticates a controller's routes with another Passport strategy than the listener's JWT one (the S3 API: SigV4). */
export const AuthenticateWith = (strategy: string) => SetMetadata(AUTH_STRATEGY, strategy);

/**
 * Declares what a route needs. The global AccessGuard enforces it in this order:
 * authenticate (who is calling) → role ability (may this kind of caller use this route at all)
 * → and then the service asks the policy engine about the specific resource. Order matters:
 * an ability is meaningless without an authenticated principal, and the policy engine must
 * never see a request from a caller whose role may not make it. A route without @Allow() and
 * without @Public() is refused.
 */
export function Allow(action: AppAction, subject: AppSubject) {
  return applyDecorators(
    SetMetadata(REQUIRED_ABILITY, { action, subject }),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No, bad, expired or revoked credential' }),
    ApiForbiddenResponse({ description: "The caller's role may not use this route" }),
  );
}
