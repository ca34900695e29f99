// Names the Auth0 applications Konnect registers, at their first token request.
//
// Shipped by dcr-rs (dcr-workflow/action/naming.js) and deployed by `dcr apply` when
// `naming.action = true`. The workflow writes two lines above this file: its ownership
// mark and `const CONFIG = {...}` holding the parsed `naming.template` (`parts`: fixed
// texts and client_metadata keys, joined in order) and the configured portals.
//
// Secrets (set by the workflow from its secret store, never in this code):
//   DOMAIN         the tenant's domain (the Management API is https://DOMAIN/api/v2/)
//   CLIENT_ID      the DCR admin application, which holds update:clients
//   CLIENT_SECRET  its secret
//   BASE_URL       optional: where to send requests instead of https://DOMAIN (tests)
//
// The hot path costs nothing: the name is compared with `event.client.name` first, and
// only an application whose name differs is renamed. The Management API token is kept
// in `api.cache` for as long as it lives (less a minute), not fetched per execution. A
// failure is logged and never denies the token: a name is not worth an outage.

const MAX_NAME_CHARS = 255;
const TOKEN_KEY = 'dcr-rs:management-token';
const EARLY_MS = 60 * 1000;
// Auth0's cache keeps an entry at most this long (Actions cache limits).
const MAX_TTL_MS = 24 * 60 * 60 * 1000;

/** The template's name for an application, or null when it cannot be made. */
function nameFor(parts, metadata) {
  let name = '';
  for (const part of parts) {
    if (typeof part.text === 'string') {
      name += part.text;
      continue;
    }
    const value = metadata[part.metadata];
    if (typeof value !== 'string') return null;
    name += value.replace(/[<>]/g, '');
  }
  name = name.trim();
  const length = [...name].length;
  if (length === 0 || length > MAX_NAME_CHARS) return null;
  return name;
}

function baseUrl(secrets) {
  return (secrets.BASE_URL || `https://${secrets.DOMAIN}`).replace(/\/+$/, '');
}

async function managementToken(event, api) {
  const cached = api.cache.get(TOKEN_KEY);
  if (cached && typeof cached.value === 'string' && cached.value) return cached.value;
  const response = await fetch(`${baseUrl(event.secrets)}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: event.secrets.CLIENT_ID,
      client_secret: event.secrets.CLIENT_SECRET,
      audience: `https://${event.secrets.DOMAIN}/api/v2/`,
    }),
  });
  if (!response.ok) throw new Error(`token request answered HTTP ${response.status}`);
  const body = await response.json();
  const ttl = Math.min(Number(body.expires_in || 0) * 1000 - EARLY_MS, MAX_TTL_MS);
  if (ttl > 0) api.cache.set(TOKEN_KEY, body.access_token, { ttl });
  return body.access_token;
}

function rename(event, token, name) {
  const id = encodeURIComponent(event.client.client_id);
  return fetch(`${baseUrl(event.secrets)}/api/v2/clients/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name }),
  });
}

exports.onExecuteCredentialsExchange = async (event, api) => {
  const client = event.client || {};
  const metadata = client.metadata || {};
  if (!CONFIG.portals.includes(metadata.konnect_portal_id)) return;
  const name = nameFor(CONFIG.parts, metadata);
  if (name === null || name === client.name) return;
  try {
    let response = await rename(event, await managementToken(event, api), name);
    if (response.status === 401) {
      // A cached token revoked early: one fresh token, one more try.
      api.cache.delete(TOKEN_KEY);
      response = await rename(event, await managementToken(event, api), name);
    }
    if (!response.ok) console.log(`dcr-rs naming: renaming ${client.client_id} answered HTTP ${response.status}`);
  } catch (error) {
    console.log(`dcr-rs naming: ${error.message}`);
  }
};

// For the tests (Node): not used by Auth0.
exports.nameFor = nameFor;
