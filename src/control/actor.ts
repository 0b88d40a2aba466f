import { type UserPrincipal } from '../auth/token.service';

/** How a person appears as the principal of an audit leaf. */
export function actor(user: UserPrincipal): string {
  return `user:${user.sub}`;
}
