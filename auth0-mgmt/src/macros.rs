//! Declarative macros local to this crate: redacting secret newtypes and paging setters.
//! (Typed ids and server-owned enums come from `dcr_client_core`.)

/// Declares a secret newtype around [`secrecy::SecretString`] whose `Debug` prints
/// `Name([REDACTED])`. It deserializes from a plain string and serializes only through
/// `crate::secret::expose`.
macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(secrecy::SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(secrecy::SecretString::from(secret.into()))
            }

            /// Reveals the secret. Call it only where the value leaves for the wire or a store.
            pub fn expose_secret(&self) -> &str {
                secrecy::ExposeSecret::expose_secret(&self.0)
            }

            /// The inner [`secrecy::SecretString`].
            pub fn into_secret_string(self) -> secrecy::SecretString {
                self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<secrecy::SecretString> for $name {
            fn from(secret: secrecy::SecretString) -> Self {
                Self(secret)
            }
        }

        impl From<$name> for secrecy::SecretString {
            fn from(secret: $name) -> Self {
                secret.0
            }
        }

        impl secrecy::ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                secrecy::ExposeSecret::expose_secret(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                crate::secret::expose(&self.0, serializer)
            }
        }
    };
}

/// `page` / `per_page` setters for a list builder with a `paging: PageRequest` field.
macro_rules! offset_paging_setters {
    () => {
        /// Offset page number (0-based).
        pub fn page(mut self, page: u32) -> Self {
            self.paging.page = Some(page);
            self
        }

        /// Items per offset page (1–100).
        pub fn per_page(mut self, per_page: u32) -> Self {
            self.paging.per_page = Some(per_page);
            self
        }
    };
}

/// `from` / `take` setters for a list builder whose endpoint has checkpoint pagination.
macro_rules! checkpoint_paging_setters {
    () => {
        /// Checkpoint to continue from (a previous page's `next`).
        pub fn from(mut self, checkpoint: impl Into<String>) -> Self {
            self.paging.from = Some(checkpoint.into());
            self
        }

        /// Items per checkpoint page (1–100).
        pub fn take(mut self, take: u32) -> Self {
            self.paging.take = Some(take);
            self
        }
    };
}
