import { decodeJwt } from 'jose';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { SigningKeys } from '../keys/signing-keys';
import { CONTROL_AUDIENCE, SANDBOX_AUDIENCE, TokenError, TokenService } from './token.service';

describe('TokenService', () => {
  const keys = new SigningKeys(generateKeyPairSync('ed25519').privateKey);
  const tokens = new TokenService(keys);
  const inAnHour = new Date(Date.now() + 3600_000);

  it('verifies a job token on the sandbox audience', async () => {
    const t = await tokens.issueJob('job-1', 'demo', inAnHour);
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).resolves.toMatchObject({ kind: 'job', jobId: 'job-1', team: 'demo' });
  });

  it('verifies a user token with its role on the control audience', async () => {
    const t = await tokens.issueUser('alice', 'auditor', null, 60);
    await expect(tokens.verify(t, CONTROL_AUDIENCE)).resolves.toEqual({
      kind: 'user',
      sub: 'alice',
      role: 'auditor',
      team: null,
      subject: 'alice',
      issuer: '',
      // What revocation needs: the token's id (its jti) and when it was issued (whole seconds).
      tokenId: decodeJwt(t).jti,
      issuedAt: new Date((decodeJwt(t).iat ?? 0) * 1000),
      expiresAt: new Date((decodeJwt(t).exp ?? 0) * 1000),
      sessionStart: new Date((decodeJwt(t).iat ?? 0) * 1000),
    });
  });

  it('should not accept a job token on the control listener, nor a user token on the sandbox', async () => {
    const job = await tokens.issueJob('job-1', 'demo', inAnHour);
    const user = await tokens.issueUser('alice', 'organizer', null, 60);
    await expect(tokens.verify(job, CONTROL_AUDIENCE)).rejects.toThrow(/claim aud/);
    await expect(tokens.verify(user, SANDBOX_AUDIENCE)).rejects.toThrow(/claim aud/);
  });

  it('should not accept an expired token', async () => {
    const t = await tokens.issueJob('job-1', 'demo', new Date(Date.now() - 60_000));
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('token expired');
  });

  it('should not accept a token signed by another key', async () => {
    const other = new TokenService(new SigningKeys(generateKeyPairSync('ed25519').privateKey));
    const t = await other.issueJob('job-1', 'demo', inAnHour);
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('token signature is not valid');
  });

  it('should not accept alg: none', async () => {
    const t = new UnsecuredJWT({ typ: 'job', team: 'demo' })
      .setIssuer('cage')
      .setAudience(SANDBOX_AUDIENCE)
      .setSubject('job-1')
      .setExpirationTime('1h')
      .encode();
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow(TokenError);
  });

  it('should not accept an HMAC token keyed with the public key', async () => {
    const t = await new SignJWT({ typ: 'job', team: 'demo' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('cage')
      .setAudience(SANDBOX_AUDIENCE)
      .setSubject('job-1')
      .setExpirationTime('1h')
      .sign(keys.rawPublicKey());
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow(TokenError);
  });

  it('should not accept a token without an expiry, or garbage', async () => {
    const t = await new SignJWT({ typ: 'job', team: 'demo' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('cage')
      .setAudience(SANDBOX_AUDIENCE)
      .setSubject('job-1')
      .sign(keys.privateKey);
    await expect(tokens.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow(TokenError);
    await expect(tokens.verify('not.a.jwt', SANDBOX_AUDIENCE)).rejects.toThrow('token is malformed');
  });

  it('should not accept a contestant user token without a team, or a user token with an unknown role', async () => {
    const mk = (claims: Record<string, string>) =>
      new SignJWT({ typ: 'user', ...claims })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setIssuer('cage')
        .setAudience(CONTROL_AUDIENCE)
        .setSubject('bob')
        .setExpirationTime('1h')
        .sign(keys.privateKey);
    await expect(tokens.verify(await mk({ role: 'contestant' }), CONTROL_AUDIENCE)).rejects.toThrow('not a user token');
    await expect(tokens.verify(await mk({ role: 'root' }), CONTROL_AUDIENCE)).rejects.toThrow('not a user token');
  });

  describe('remembering verified tokens (the signature is checked once)', () => {
    /** A key ring whose answer for the key can change, and that counts lookups. */
    class ChangingKeys {
      retiredAt: Date | null = null;
      known = true;
      publicKey: KeyObject;
      constructor(private readonly key: SigningKeys) {
        this.publicKey = key.publicKey;
      }
      signer(): SigningKeys {
        return this.key;
      }
      tokenKey() {
        return Promise.resolve(
          this.known
            ? { ok: true as const, publicKey: this.publicKey, retiredAt: this.retiredAt }
            : { ok: false as const, reason: 'retired' },
        );
      }
    }
    afterEach(() => jest.useRealTimers());

    it('answers the same principal again without verifying the signature again', async () => {
      const ring = new ChangingKeys(keys);
      const svc = new TokenService(ring);
      const t = await svc.issueJob('job-9', 'demo', inAnHour);
      const first = await svc.verify(t, SANDBOX_AUDIENCE);
      // A key the signature does not verify under: only a token not verified again still passes.
      ring.publicKey = generateKeyPairSync('ed25519').publicKey;
      const again = await svc.verify(t, SANDBOX_AUDIENCE);
      expect(again).toEqual(first);
      expect(again).not.toBe(first);
      await expect(new TokenService(ring).verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('token signature is not valid');
    });

    it('should not accept a remembered token once it has expired', async () => {
      const svc = new TokenService(keys);
      const t = await svc.issueJob('job-9', 'demo', new Date(Date.now() + 60_000));
      await svc.verify(t, SANDBOX_AUDIENCE);
      jest.useFakeTimers({ now: Date.now() + 66_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      await expect(svc.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('token expired');
    });

    it('should not accept a remembered token whose key was withdrawn, or retired before it was issued', async () => {
      const ring = new ChangingKeys(keys);
      const svc = new TokenService(ring);
      const t = await svc.issueJob('job-9', 'demo', inAnHour);
      await svc.verify(t, SANDBOX_AUDIENCE);
      ring.retiredAt = new Date(Date.now() - 3600_000);
      await expect(svc.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('issued after its signing key retired');
      ring.retiredAt = null;
      await svc.verify(t, SANDBOX_AUDIENCE);
      ring.known = false;
      await expect(svc.verify(t, SANDBOX_AUDIENCE)).rejects.toThrow('token signature is not valid: retired');
    });

    it('should not accept a remembered token on the other audience, nor a token that differs by one byte', async () => {
      const svc = new TokenService(keys);
      const t = await svc.issueJob('job-9', 'demo', inAnHour);
      await svc.verify(t, SANDBOX_AUDIENCE);
      await expect(svc.verify(t, CONTROL_AUDIENCE)).rejects.toThrow(/claim aud/);
      // One character of the signature's middle (the last one may only carry base64 padding bits).
      const at = t.lastIndexOf('.') + 20;
      const flipped = t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
      await expect(svc.verify(flipped, SANDBOX_AUDIENCE)).rejects.toThrow('token signature is not valid');
    });
  });
});
