//! Typed identifiers and names, so ids of different resources cannot be mixed up.

use dcr_client_core::id_type;

id_type!(
    /// An Auth0 application's `client_id` (32 characters on a real tenant).
    ClientId
);
id_type!(
    /// A client grant's `id` (`cgr_…`).
    ClientGrantId
);
id_type!(
    /// A resource server's `id` (not its identifier; see [`Audience`]).
    ResourceServerId
);
id_type!(
    /// An API audience: a resource server's `identifier`. Often a URL, but any string.
    Audience
);
id_type!(
    /// An Action's `id`.
    ActionId
);
id_type!(
    /// An Action version's `id`.
    ActionVersionId
);
