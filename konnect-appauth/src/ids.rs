//! Typed identifiers, so a strategy id can never be passed where a provider id is expected.

use dcr_client_core::id_type;

id_type!(
    /// A DCR provider's `id` (UUID).
    DcrProviderId
);
id_type!(
    /// An application auth strategy's `id` (UUID).
    AuthStrategyId
);
id_type!(
    /// An API's `id` in the API Builder (UUID).
    ApiId
);
id_type!(
    /// A Dev Portal's `id` (UUID).
    PortalId
);
id_type!(
    /// A portal application's `id` (UUID).
    ApplicationId
);
id_type!(
    /// A classic (v2) API product's `id` (UUID).
    ApiProductId
);
id_type!(
    /// An API product version's `id` (UUID).
    ProductVersionId
);
id_type!(
    /// A portal product version's `id` (UUID): a version published on a classic portal.
    PortalProductVersionId
);
