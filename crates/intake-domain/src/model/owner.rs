use std::fmt;

/// Who an image belongs to: the authenticated principal a request speaks for.
///
/// Every record carries its owner, and every read and write through the services is scoped to one:
/// another owner's image is indistinguishable from one that does not exist. On AWS the owner comes from
/// the API Gateway authorizer (a JWT's `sub`, or an IAM principal, see [`Owner::from_iam_arn`]); on the
/// local server from the API key that signed the request.
///
/// An owner is 1 to [`MAX_OWNER_BYTES`] bytes of text without control characters and without
/// leading or trailing white space.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(String);

/// The longest owner, in bytes.
pub const MAX_OWNER_BYTES: usize = 256;

/// Why a text is not an [`Owner`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnerError {
    /// The text is empty.
    #[error("owner is empty")]
    Empty,
    /// The text is longer than [`MAX_OWNER_BYTES`].
    #[error("owner is longer than {MAX_OWNER_BYTES} bytes")]
    TooLong,
    /// The text has control characters or surrounding white space.
    #[error("owner has control characters or surrounding white space")]
    Invalid,
}

impl Owner {
    /// Validates an owner.
    ///
    /// # Errors
    /// [`OwnerError`] when the text is empty, too long, or has control characters or surrounding
    /// white space.
    pub fn parse(text: &str) -> Result<Self, OwnerError> {
        if text.is_empty() {
            return Err(OwnerError::Empty);
        }
        if text.len() > MAX_OWNER_BYTES {
            return Err(OwnerError::TooLong);
        }
        if text.chars().any(char::is_control) || text.trim() != text {
            return Err(OwnerError::Invalid);
        }
        Ok(Self(text.to_owned()))
    }

    /// The owner of an IAM principal's ARN. A role session
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) is owned by its role
    /// (`arn:aws:iam::ACCOUNT:role/ROLE`), since a service's session names change with every
    /// assumption; users and other principals are their own ARN. Sessions of IAM Identity Center roles
    /// (`AWSReservedSSO_*`) are people, named by the session (their user name), so they keep the whole
    /// session ARN: one person's images are not another's because they share a permission set.
    ///
    /// # Errors
    /// As [`Owner::parse`].
    pub fn from_iam_arn(arn: &str) -> Result<Self, OwnerError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if let [prefix, partition, "sts", "", account, resource] = parts.as_slice()
            && let Some(rest) = resource.strip_prefix("assumed-role/")
            && let Some((role, _session)) = rest.split_once('/')
            && !role.is_empty()
            && !role.starts_with("AWSReservedSSO_")
        {
            return Self::parse(&format!("{prefix}:{partition}:iam::{account}:role/{role}"));
        }
        Self::parse(arn)
    }

    /// The owner as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Owner({:?})", self.0)
    }
}

impl std::str::FromStr for Owner {
    type Err = OwnerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::text_serde!(Owner, Owner::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_validated() {
        assert_eq!(Owner::parse("alice").expect("valid").as_str(), "alice");
        assert_eq!(
            Owner::parse("auth0|6543 21").expect("valid").as_str(),
            "auth0|6543 21"
        );
        assert_eq!(Owner::parse(""), Err(OwnerError::Empty));
        assert_eq!(Owner::parse(" alice"), Err(OwnerError::Invalid));
        assert_eq!(Owner::parse("al\u{0}ice"), Err(OwnerError::Invalid));
        assert_eq!(Owner::parse("al\nice"), Err(OwnerError::Invalid));
        assert_eq!(Owner::parse(&"a".repeat(257)), Err(OwnerError::TooLong));
        assert!(Owner::parse(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn role_sessions_are_owned_by_their_role() {
        let owner =
            Owner::from_iam_arn("arn:aws:sts::123456789012:assumed-role/Uploader/session-42")
                .expect("valid");
        assert_eq!(owner.as_str(), "arn:aws:iam::123456789012:role/Uploader");
        let owner = Owner::from_iam_arn("arn:aws-us-gov:sts::123456789012:assumed-role/R/s")
            .expect("valid");
        assert_eq!(owner.as_str(), "arn:aws-us-gov:iam::123456789012:role/R");
        let user = Owner::from_iam_arn("arn:aws:iam::123456789012:user/alice").expect("valid");
        assert_eq!(user.as_str(), "arn:aws:iam::123456789012:user/alice");
        let person =
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Analyst_0a1b/alice@example.com";
        assert_eq!(Owner::from_iam_arn(person).expect("valid").as_str(), person);
        let odd = Owner::from_iam_arn("arn:aws:sts::123456789012:assumed-role/").expect("valid");
        assert_eq!(odd.as_str(), "arn:aws:sts::123456789012:assumed-role/");
    }

    #[test]
    fn owners_round_trip_through_json() {
        let owner = Owner::parse("bob").expect("valid");
        let json = serde_json::to_string(&owner).expect("encode");
        assert_eq!(json, "\"bob\"");
        assert_eq!(serde_json::from_str::<Owner>(&json).expect("decode"), owner);
        assert!(serde_json::from_str::<Owner>("\"\"").is_err());
    }
}
