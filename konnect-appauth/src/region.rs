//! Konnect regions: each is its own API host, `https://{region}.api.konghq.com`.

use std::fmt;
use std::str::FromStr;

use crate::error::KonnectError;

/// A Konnect geographic region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// United States (`us`).
    Us,
    /// Europe (`eu`).
    Eu,
    /// Australia (`au`).
    Au,
    /// Middle East (`me`).
    Me,
    /// India (`in`).
    In,
    /// Singapore (`sg`).
    Sg,
}

impl Region {
    /// Every region, in the order Konnect's documents list them.
    pub const ALL: [Region; 6] = [Region::Us, Region::Eu, Region::Au, Region::Me, Region::In, Region::Sg];

    /// The region code: `us`, `eu`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
            Region::Au => "au",
            Region::Me => "me",
            Region::In => "in",
            Region::Sg => "sg",
        }
    }

    /// `https://{region}.api.konghq.com/`.
    pub fn base_url(self) -> String {
        format!("https://{}.api.konghq.com/", self.as_str())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = KonnectError;

    /// Parses a region code, case-insensitively (`"EU"` → [`Region::Eu`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_lowercase();
        Region::ALL.into_iter().find(|r| r.as_str() == code).ok_or_else(|| {
            KonnectError::config(
                "region",
                format!("unknown region {s:?}; expected one of us, eu, au, me, in, sg"),
            )
        })
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_case_insensitively_and_unknown_ones_are_named() {
        assert_eq!("EU".parse::<Region>().ok(), Some(Region::Eu));
        assert_eq!(" sg ".parse::<Region>().ok(), Some(Region::Sg));
        assert_eq!(Region::In.base_url(), "https://in.api.konghq.com/");
        let err = "mars"
            .parse::<Region>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("region") && err.contains("mars"), "{err}");
    }
}
