//! Crash-safe rotation of the admin application's secret, in phases any later run can
//! finish:
//!
//! 1. choose the new secret locally and record it in the store as *pending*;
//! 2. set it in Auth0 (`PATCH /api/v2/clients/{id}` with `client_secret`);
//! 3. set it in the Konnect DCR provider;
//! 4. promote it: the pending value becomes the stored secret.
//!
//! Steps 2 and 3 set absolute values, so they are repeated safely: a run that finds a
//! pending secret sends it again to both and promotes it, whether the interrupted run
//! stopped before Auth0 took it (Auth0 still has the old, stored one until then), after,
//! or after Konnect too. The secret is never rotated a second time for one interruption,
//! and no moment exists at which the only copy of a working secret is in flight.

use auth0_mgmt::{ClientId, ClientSecret};
use secrecy::{ExposeSecret, SecretString};

use crate::plan::StepId;
use crate::steps::Ctx;
use crate::store::{admin_secret_key, pending_secret_key};
use crate::{Result, WorkflowError};

/// Length of a secret the workflow chooses; Auth0's own are 64 characters of this alphabet.
const SECRET_LEN: usize = 64;
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 64 characters from the operating system's CSPRNG (384 bits).
fn generate() -> Result<SecretString> {
    let mut bytes = [0u8; SECRET_LEN];
    getrandom::fill(&mut bytes).map_err(|e| WorkflowError::store("(new secret)", format!("no randomness: {e}")))?;
    // 256 is a multiple of 64, so the low six bits of a uniform byte are uniform.
    let text: String = bytes.iter().map(|b| ALPHABET[usize::from(b & 63)] as char).collect();
    bytes.fill(0);
    Ok(SecretString::from(text))
}

fn copy(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

/// The pending secret of an unfinished rotation, if any.
pub(crate) async fn pending(ctx: Ctx<'_>, id: &ClientId) -> Result<Option<SecretString>> {
    ctx.store.get(&pending_secret_key(id.as_str())).await
}

/// Phases 1 and 2: records a new secret as pending (or takes the one an interrupted run
/// recorded) and sets it in Auth0. Returns it; the caller gives it to Konnect, then
/// calls [`promote`].
pub(crate) async fn begin(ctx: Ctx<'_>, id: &ClientId) -> Result<SecretString> {
    let secret = match pending(ctx, id).await? {
        Some(secret) => {
            tracing::info!(client_id = %id, "finishing an interrupted rotation of the admin application's secret");
            secret
        }
        None => {
            let secret = generate()?;
            // Recorded before Auth0 hears of it: whatever happens next, it is not lost.
            ctx.store.put(&pending_secret_key(id.as_str()), &secret).await?;
            secret
        }
    };
    ctx.auth0
        .clients()
        .set_secret(id, &ClientSecret::from(copy(&secret)))
        .await
        .map_err(WorkflowError::auth0(StepId::Rotate))?;
    tracing::info!(client_id = %id, "set the DCR admin application's new secret in Auth0");
    Ok(secret)
}

/// Phase 4: the pending secret becomes the stored one. Written before the pending key
/// goes, so a crash in between leaves both equal, which the next run finishes harmlessly.
pub(crate) async fn promote(ctx: Ctx<'_>, id: &ClientId, secret: &SecretString) -> Result<()> {
    ctx.store.put(&admin_secret_key(id.as_str()), secret).await?;
    ctx.store.delete(&pending_secret_key(id.as_str())).await?;
    tracing::info!(client_id = %id, "rotation finished: the new secret is the stored one");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_distinct_and_url_safe() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose_secret().len(), SECRET_LEN);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().bytes().all(|c| ALPHABET.contains(&c)));
    }
}
