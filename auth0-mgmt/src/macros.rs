//! Declarative macros for the small value types every resource needs: ids, server-owned
//! enums that must survive values this version does not know yet, and redacting secrets.

/// Declares a `#[serde(transparent)]` string newtype used as a typed identifier, so that
/// a grant id can never be passed where a client id is expected.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the wrapper and returns the raw identifier.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }
    };
}

/// Declares a string enum owned by the server. Known values get variants; any other value
/// decodes into `Unknown(String)` (and re-encodes unchanged), so a new server value never
/// breaks a client built today.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know yet, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                let value: $name = match raw.parse() {
                    Ok(value) => value,
                    Err(never) => match never {},
                };
                if let Self::Unknown(other) = &value {
                    tracing::debug!(r#type = stringify!($name), value = %other, "unknown enum value from server kept verbatim");
                }
                Ok(value)
            }
        }
    };
}

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
