// Tests of the naming Action's code (action/naming.js), run with `node --test`.
//
// The code under test is the one `dcr apply` deploys when DCR_ACTION_CODE names a file
// holding it (the Rust test `tests/naming_action.rs` writes it); otherwise the shipped
// file under a CONFIG made here. With DCR_SANDBOX_URL set, the last test runs the code
// against the Auth0 sandbox's token endpoint and Management API.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PORTAL = 'portal-1';

function load() {
  let code = process.env.DCR_ACTION_CODE && fs.readFileSync(process.env.DCR_ACTION_CODE, 'utf8');
  if (!code) {
    const config = {
      parts: [
        { metadata: 'konnect_developer_id' },
        { text: '/' },
        { metadata: 'konnect_application_id' },
      ],
      portals: [PORTAL],
    };
    code = `// managed_by=dcr-rs\nconst CONFIG = ${JSON.stringify(config)};\n\n` +
      fs.readFileSync(path.join(__dirname, 'naming.js'), 'utf8');
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dcr-naming-')), 'action.cjs');
  fs.writeFileSync(file, code);
  // The configuration the code was deployed with, read back from its second line.
  const line = code.split('\n').find((l) => l.startsWith('const CONFIG = '));
  const config = JSON.parse(line.slice('const CONFIG = '.length).replace(/;\s*$/, ''));
  return { action: require(file), config };
}

const { action, config } = load();
const portal = config.portals[0];

/** Auth0's api.cache, with lifetimes. */
function fakeApi() {
  const entries = new Map();
  const calls = { set: [], deleted: 0 };
  return {
    calls,
    cache: {
      get(key) {
        const e = entries.get(key);
        if (!e || e.expires_at <= Date.now()) return undefined;
        return { value: e.value, expires_at: e.expires_at };
      },
      set(key, value, options) {
        assert.equal(typeof value, 'string', 'the cache stores strings');
        calls.set.push({ key, options });
        entries.set(key, { value, expires_at: Date.now() + ((options && options.ttl) || 15 * 60 * 1000) });
        return { type: 'success' };
      },
      delete(key) {
        calls.deleted += 1;
        entries.delete(key);
        return { type: 'success' };
      },
    },
    access: { deny() { throw new Error('the naming Action must never deny a token'); } },
  };
}

/** A fetch answering like Auth0, recording each request. */
function fakeFetch(answers = {}) {
  const requests = [];
  const fetch = async (url, init) => {
    const body = init.body ? JSON.parse(init.body) : undefined;
    requests.push({ url, method: init.method, body, authorization: init.headers.authorization });
    const route = url.endsWith('/oauth/token') ? 'token' : 'patch';
    const status = (answers[route] || []).shift() || 200;
    const json = route === 'token'
      ? { access_token: `token-${requests.length}`, token_type: 'Bearer', expires_in: 86400 }
      : { client_id: 'c', name: body && body.name };
    return { ok: status < 300, status, json: async () => json };
  };
  return { fetch, requests };
}

function event(client, secrets) {
  return {
    client,
    secrets: secrets || { DOMAIN: 'acme.eu.auth0.com', CLIENT_ID: 'admin', CLIENT_SECRET: 's3cr3t' },
    transaction: { requested_scopes: [] },
  };
}

function client(name, metadata) {
  return {
    client_id: 'c1',
    name,
    metadata: Object.assign({
      konnect_portal_id: portal,
      konnect_developer_id: 'dev-1',
      konnect_org_id: 'org-1',
      konnect_application_id: 'app-1',
    }, metadata || {}),
  };
}

async function withFetch(fake, run) {
  const saved = globalThis.fetch;
  globalThis.fetch = fake.fetch;
  try {
    await run();
  } finally {
    globalThis.fetch = saved;
  }
}

const expected = (c) => action.nameFor(config.parts, c.metadata);

test('a name already right costs no request', async () => {
  const fake = fakeFetch();
  const c = client('x');
  c.name = expected(c);
  await withFetch(fake, () => action.onExecuteCredentialsExchange(event(c), fakeApi()));
  assert.equal(fake.requests.length, 0);
});

test('applications of other portals, and ones without konnect metadata, are left alone', async () => {
  const fake = fakeFetch();
  await withFetch(fake, async () => {
    await action.onExecuteCredentialsExchange(event(client('test', { konnect_portal_id: 'other' })), fakeApi());
    await action.onExecuteCredentialsExchange(event({ client_id: 'm2m', name: 'billing', metadata: {} }), fakeApi());
    await action.onExecuteCredentialsExchange(event(client('test', { konnect_application_id: undefined })), fakeApi());
  });
  assert.equal(fake.requests.length, 0);
});

test('a wrong name is renamed with one token, which the cache keeps for the next execution', async () => {
  const fake = fakeFetch();
  const api = fakeApi();
  await withFetch(fake, async () => {
    await action.onExecuteCredentialsExchange(event(client('test')), api);
    await action.onExecuteCredentialsExchange(event(client('my app', { konnect_application_id: 'app-2' })), api);
  });
  const tokens = fake.requests.filter((r) => r.url.endsWith('/oauth/token'));
  const patches = fake.requests.filter((r) => r.method === 'PATCH');
  assert.equal(tokens.length, 1, 'one token for both');
  assert.equal(tokens[0].url, 'https://acme.eu.auth0.com/oauth/token');
  assert.equal(tokens[0].body.audience, 'https://acme.eu.auth0.com/api/v2/');
  assert.equal(tokens[0].body.client_secret, 's3cr3t');
  assert.equal(patches.length, 2);
  assert.equal(patches[0].url, 'https://acme.eu.auth0.com/api/v2/clients/c1');
  assert.deepEqual(patches[0].body, { name: expected(client('test')) });
  assert.equal(patches[1].authorization, patches[0].authorization);
  const ttl = api.calls.set[0].options.ttl;
  assert.ok(ttl > 0 && ttl <= 86400 * 1000 - 60 * 1000, `kept less than it lives: ${ttl}`);
});

test('a revoked cached token is replaced once', async () => {
  const fake = fakeFetch({ patch: [401, 200] });
  const api = fakeApi();
  await withFetch(fake, () => action.onExecuteCredentialsExchange(event(client('test')), api));
  assert.deepEqual(fake.requests.map((r) => (r.method === 'PATCH' ? 'patch' : 'token')), ['token', 'patch', 'token', 'patch']);
  assert.equal(api.calls.deleted, 1);
});

test('a failing token endpoint is logged and never denies the token', async () => {
  const fake = fakeFetch({ token: [429] });
  const logged = [];
  const log = console.log;
  console.log = (m) => logged.push(m);
  try {
    await withFetch(fake, () => action.onExecuteCredentialsExchange(event(client('test')), fakeApi()));
  } finally {
    console.log = log;
  }
  assert.equal(fake.requests.length, 1);
  assert.match(logged.join('\n'), /token request answered HTTP 429/);
  assert.doesNotMatch(logged.join('\n'), /s3cr3t/, 'the secret is never logged');
});

test('names follow the rule the workflow states: no < or >, at most 255 characters', () => {
  const parts = [{ text: 'app ' }, { metadata: 'konnect_application_id' }];
  assert.equal(action.nameFor(parts, { konnect_application_id: '<b>1' }), 'app b1');
  assert.equal(action.nameFor(parts, { konnect_application_id: 'x'.repeat(251) }), 'app ' + 'x'.repeat(251));
  assert.equal(action.nameFor(parts, { konnect_application_id: 'x'.repeat(252) }), null);
  assert.equal(action.nameFor(parts, {}), null);
});

test('against the Auth0 sandbox: renamed once, one token for every execution', { skip: !process.env.DCR_SANDBOX_URL }, async () => {
  const secrets = {
    DOMAIN: process.env.DCR_SANDBOX_DOMAIN,
    BASE_URL: process.env.DCR_SANDBOX_URL,
    CLIENT_ID: process.env.DCR_ADMIN_CLIENT_ID,
    CLIENT_SECRET: process.env.DCR_ADMIN_CLIENT_SECRET,
  };
  const api = fakeApi();
  const targets = JSON.parse(process.env.DCR_TARGETS);
  for (const target of targets) {
    const c = { client_id: target.client_id, name: target.name, metadata: target.metadata };
    // The workflow's renderer (which wrote `expected`) and this code agree.
    assert.equal(action.nameFor(config.parts, c.metadata), target.expected);
    await action.onExecuteCredentialsExchange(event(c, secrets), api);
    // Its next token request sees the new name: nothing more to do.
    const renamed = { ...c, name: target.expected };
    await action.onExecuteCredentialsExchange(event(renamed, secrets), api);
  }
  assert.equal(api.calls.set.length, 1, 'one token fetched and cached');
});
