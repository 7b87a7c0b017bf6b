// A real OpenID provider (the `oidc-provider` package) for selfcare's end-to-end login tests
// (crates/reserved-area/tests/it/oidc.rs). One confidential client, one account; the login and
// consent interactions complete by themselves for that account. PKCE is required and ID tokens
// are signed with RS256 by a key made at start.
//
// Configured by environment variables:
//   OIDC_PORT                    port on 127.0.0.1 (default 0: any free port)
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI   the client (required)
//   OIDC_CLIENT_AUTH             client_secret_basic (default) or client_secret_post: the only
//                                method the token endpoint advertises and accepts
//   OIDC_ACCOUNT_SUB             the account's subject (default mario.rossi)
//   OIDC_ACCOUNT_FISCAL_NUMBER   default TINIT-RSSMRA85T10A562S
//   OIDC_ACCOUNT_GIVEN_NAME      default Mario
//   OIDC_ACCOUNT_FAMILY_NAME     default Rossi
//   OIDC_ACR                     the `acr` of the login (default none)
// Test switches:
//   OIDC_TEST_CLAIMS_IN=userinfo the person's claims only at the userinfo endpoint (default: in
//                                the ID token too)
//   OIDC_TEST_TOKEN_ISSUER=URL   ID tokens carry this `iss`, while discovery advertises the
//                                provider's own URL
//   OIDC_TEST_FOREIGN_JWKS=1     the JWKS publishes another key under the signing key's `kid`
//
// Prints `listening on <issuer URL>` once it serves.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;

function required(name) {
  const value = env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const clientId = required('OIDC_CLIENT_ID');
const clientSecret = required('OIDC_CLIENT_SECRET');
const redirectUri = required('OIDC_REDIRECT_URI');
const clientAuth = env.OIDC_CLIENT_AUTH || 'client_secret_basic';
const account = {
  sub: env.OIDC_ACCOUNT_SUB || 'mario.rossi',
  fiscal_number: env.OIDC_ACCOUNT_FISCAL_NUMBER || 'TINIT-RSSMRA85T10A562S',
  given_name: env.OIDC_ACCOUNT_GIVEN_NAME || 'Mario',
  family_name: env.OIDC_ACCOUNT_FAMILY_NAME || 'Rossi',
};
const acr = env.OIDC_ACR || undefined;
const claimsInIdToken = env.OIDC_TEST_CLAIMS_IN !== 'userinfo';
const tokenIssuer = env.OIDC_TEST_TOKEN_ISSUER || undefined;
const foreignJwks = env.OIDC_TEST_FOREIGN_JWKS === '1';

function rsaJwk(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function publicPart({ kty, n, e, kid, alg, use }) {
  return { kty, n, e, kid, alg, use };
}

const signingKey = rsaJwk('test-signing-key');
const foreignKey = publicPart(rsaJwk(signingKey.kid));

function configuration() {
  return {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: clientAuth,
        id_token_signed_response_alg: 'RS256',
        // The provider reports the level of every login (as SPID providers do).
        ...(acr ? { default_acr_values: [acr] } : {}),
      },
    ],
    clientAuthMethods: [clientAuth],
    jwks: { keys: [signingKey] },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    pkce: { required: () => true },
    scopes: ['openid', 'profile'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['fiscal_number', 'given_name', 'family_name'],
    },
    conformIdTokenClaims: !claimsInIdToken,
    acrValues: acr ? [acr] : [],
    findAccount: async (_ctx, id) => (id === account.sub
      ? { accountId: id, claims: async () => ({ ...account }) }
      : undefined),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    // Quiet: tests read stdout for the `listening on` line only.
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

let provider;

// The interaction: the account logs in and consents to everything asked, at once.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: account.sub, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  const grantId = await grant.save();
  const login = { accountId: account.sub, remember: false };
  if (acr) login.acr = acr;
  await provider.interactionFinished(
    req,
    res,
    { login, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const server = http.createServer((req, res) => {
  if (!provider) {
    res.writeHead(503).end();
    return;
  }
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      console.error('interaction failed:', err);
      if (!res.headersSent) res.writeHead(500).end();
    });
    return;
  }
  provider.callback()(req, res);
});

server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(tokenIssuer || url, configuration());
  provider.proxy = false;
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/.well-known/openid-configuration' && tokenIssuer && ctx.body) {
      ctx.body = { ...ctx.body, issuer: url };
    }
    if (ctx.path === '/jwks' && foreignJwks && ctx.body) {
      ctx.body = { keys: [foreignKey] };
    }
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
  console.log(`listening on ${url}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
