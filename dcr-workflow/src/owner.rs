//! The marks that say "the workflow created this", so it never changes or deletes what
//! it did not create.

use auth0_mgmt::resources::clients::Client;
use konnect_appauth::resources::Labels;

/// Konnect label key on every resource the workflow creates.
pub const LABEL_KEY: &str = "managed-by";
/// Its value.
pub const LABEL_VALUE: &str = "dcr-rs";
/// `client_metadata` key on the Auth0 DCR admin application.
pub const METADATA_KEY: &str = "managed_by";
/// Its value.
pub const METADATA_VALUE: &str = "dcr-rs";
/// `client_metadata` key recording the identifier of the resource server the workflow
/// created. Auth0 resource servers carry no metadata of their own, so the claim lives on
/// the admin application, written before the resource server is created.
pub const METADATA_API_KEY: &str = "dcr_rs_api";

/// Whether an Auth0 client carries the workflow's mark.
pub fn owns_client(client: &Client) -> bool {
    client.metadata(METADATA_KEY) == Some(METADATA_VALUE)
}

/// Whether Konnect labels carry the workflow's mark.
pub fn owns_labels(labels: &Labels) -> bool {
    labels.get(LABEL_KEY).map(String::as_str) == Some(LABEL_VALUE)
}

/// Konnect label on a portal application `verify` creates, so that one a run could not
/// remove (killed, or the answer to its create lost) is found by `audit` and `destroy`.
pub const VERIFY_LABEL_KEY: &str = "dcr-rs-verify";
/// `client_metadata` key on an Auth0 client `verify` creates itself (`VerifyMode::Auth0Client`).
pub const VERIFY_METADATA_KEY: &str = "dcr_rs_verify";
/// The value of both.
pub const VERIFY_VALUE: &str = "true";
/// The description of every application `verify` creates. The developer API takes no
/// labels, so for an application a developer creates this (with the name's
/// [`VERIFY_NAME_PREFIX`]) is the mark `audit` and `destroy` find it by.
pub const VERIFY_DESCRIPTION: &str = "Created and removed by dcr-rs verify";
/// The start of the name of every application `verify` creates.
pub const VERIFY_NAME_PREFIX: &str = "dcr-rs verify ";

/// The first line of the code of the Auth0 Action the workflow deploys: Actions carry no
/// metadata, so this is its ownership mark.
pub const ACTION_CODE_MARK: &str = "// managed_by=dcr-rs";
