import {
  ALGORITHM,
  CanonicalizationError,
  EMPTY_SHA256,
  canonicalQueryString,
  canonicalRequestFromRaw,
  canonicalUri,
  credentialScope,
  parseQuery,
  sha256Hex,
  signature,
  signingKey,
  stringToSign,
  type HeaderList,
} from './canonical-request';

/**
 * AWS SigV4 test suite (aws-sig-v4-test-suite / aws-c-auth `tests/aws-signing-test-suite/v4`).
 * Fixed context: AKIDEXAMPLE, 20150830T123600Z, us-east-1, service `service`. The final
 * signatures are the ones in the AWS SDK for JavaScript's suite fixture; the canonical request
 * and string to sign are the suite's, and are cross-checked by the signature matching.
 */
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20150830T123600Z';
const SCOPE = credentialScope('20150830', 'us-east-1', 'service');

interface Vector {
  name: string;
  method: string;
  rawTarget: string;
  headers: HeaderList;
  signedHeaders: string[];
  payloadHash: string;
  creq: string;
  sts: string;
  signature: string;
}

const HOST: [string, string] = ['Host', 'example.amazonaws.com'];
const DATE: [string, string] = ['X-Amz-Date', AMZ_DATE];

const VECTORS: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    rawTarget: '/',
    headers: [HOST, DATE],
    signedHeaders: ['host', 'x-amz-date'],
    payloadHash: EMPTY_SHA256,
    creq: ['GET', '/', '', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256].join('\n'),
    sts: [ALGORITHM, AMZ_DATE, SCOPE, 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63'].join('\n'),
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    rawTarget: '/?Param2=value2&Param1=value1',
    headers: [HOST, DATE],
    signedHeaders: ['host', 'x-amz-date'],
    payloadHash: EMPTY_SHA256,
    creq: [
      'GET',
      '/',
      'Param1=value1&Param2=value2',
      'host:example.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      '',
      'host;x-amz-date',
      EMPTY_SHA256,
    ].join('\n'),
    sts: [ALGORITHM, AMZ_DATE, SCOPE, '816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0'].join('\n'),
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    rawTarget: '/',
    headers: [HOST, ['My-Header1', ' value1'], ['My-Header2', ' "a   b   c"'], DATE],
    signedHeaders: ['host', 'my-header1', 'my-header2', 'x-amz-date'],
    payloadHash: EMPTY_SHA256,
    creq: [
      'GET',
      '/',
      '',
      'host:example.amazonaws.com',
      'my-header1:value1',
      'my-header2:"a b c"',
      'x-amz-date:20150830T123600Z',
      '',
      'host;my-header1;my-header2;x-amz-date',
      EMPTY_SHA256,
    ].join('\n'),
    sts: [ALGORITHM, AMZ_DATE, SCOPE, 'a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7'].join('\n'),
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    // The original 2015 suite form (Content-Type without charset, content-length unsigned).
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    rawTarget: '/',
    headers: [['Content-Type', 'application/x-www-form-urlencoded'], HOST, DATE, ['Content-Length', '13']],
    signedHeaders: ['content-type', 'host', 'x-amz-date'],
    payloadHash: sha256Hex('Param1=value1'),
    creq: [
      'POST',
      '/',
      '',
      'content-type:application/x-www-form-urlencoded',
      'host:example.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      '',
      'content-type;host;x-amz-date',
      '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    ].join('\n'),
    sts: [ALGORITHM, AMZ_DATE, SCOPE, '42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281'].join('\n'),
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

describe('SigV4 canonical request: AWS test-suite vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name}: canonical request, string to sign and signature`, () => {
      const creq = canonicalRequestFromRaw(
        { method: v.method, rawTarget: v.rawTarget, headers: v.headers },
        v.signedHeaders,
        v.payloadHash,
      );
      expect(creq).toBe(v.creq);
      const sts = stringToSign(ALGORITHM, AMZ_DATE, SCOPE, creq);
      expect(sts).toBe(v.sts);
      expect(signature(signingKey(SECRET, '20150830', 'us-east-1', 'service'), sts)).toBe(v.signature);
    });
  }

  it('derives the documented signing key for the AWS example (iam, 20150830)', () => {
    expect(signingKey(SECRET, '20150830', 'us-east-1', 'iam').toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
  });
});

describe('S3 canonical URI and query', () => {
  it('keeps the raw path: no dot-segment removal, no slash collapsing', () => {
    expect(canonicalUri('/bucket/a/../b')).toBe('/bucket/a/../b');
    expect(canonicalUri('/bucket//a//')).toBe('/bucket//a//');
  });

  it('encodes once: %2F stays %2F, %20 stays %20, %25 stays %25 (no double decoding)', () => {
    expect(canonicalUri('/bucket/a%2Fb')).toBe('/bucket/a%2Fb');
    expect(canonicalUri('/bucket/a%20b')).toBe('/bucket/a%20b');
    expect(canonicalUri('/bucket/100%2541')).toBe('/bucket/100%2541');
    expect(canonicalUri('/bucket/%E1%88%B4')).toBe('/bucket/%E1%88%B4');
    expect(canonicalUri('/bucket/a%2fb')).toBe('/bucket/a%2Fb');
  });

  it('encodes reserved characters sent raw the AWS way', () => {
    expect(canonicalUri("/bucket/a b!'()*~")).toBe('/bucket/a%20b%21%27%28%29%2A~');
  });

  it('should not accept malformed percent-encoding', () => {
    expect(() => canonicalUri('/bucket/a%zz')).toThrow(CanonicalizationError);
    expect(() => canonicalUri('/bucket/a%2')).toThrow(CanonicalizationError);
    expect(() => parseQuery('a=%')).toThrow(CanonicalizationError);
  });

  it('sorts query by encoded name then value, treats + literally, and can exclude X-Amz-Signature', () => {
    const params = parseQuery('b=2&a=z&a=y&c&X-Amz-Signature=abc&d=a+b&e=%20');
    expect(canonicalQueryString(params, ['X-Amz-Signature'])).toBe('a=y&a=z&b=2&c=&d=a%2Bb&e=%20');
    expect(canonicalQueryString(params)).toContain('X-Amz-Signature=abc');
  });
});
