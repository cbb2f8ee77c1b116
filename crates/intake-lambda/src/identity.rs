//! The caller of an API request on AWS: API Gateway has authenticated it already (JWT authorizer or
//! IAM), and this reads who it is from the request context `lambda_http` attaches.

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use intake_domain::model::Owner;
use intake_http::{AuthError, Authenticator, Caller};

use lambda_http::http::request::Parts;
use lambda_http::request::RequestContext;

/// The owner from the API Gateway authorizer:
/// - HTTP API (v2): the JWT's `sub` claim, else the IAM caller: a Cognito identity pool user is
///   `cognito:{identityId}`, anyone else their ARN (a service's role session counts as its role, see
///   [`Owner::from_iam_arn`]);
/// - REST API (v1): the authorizer's `claims.sub` (Cognito) or `principalId` (Lambda authorizer), else
///   the IAM caller's ARN.
///
/// A request without any (an API or route without an authorizer, or an HTTP API Lambda authorizer,
/// whose context names no standard identity) is refused: 401, never a shared anonymous owner.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizerAuth;

fn owner_of_authorizer(
    authorizer: &ApiGatewayRequestAuthorizer,
) -> Option<Result<Owner, AuthError>> {
    if let Some(sub) = authorizer
        .jwt
        .as_ref()
        .and_then(|jwt| jwt.claims.get("sub"))
    {
        return Some(Owner::parse(sub).map_err(|_| AuthError::Invalid));
    }
    if let Some(iam) = authorizer.iam.as_ref() {
        // Cognito identity pool users share the pool's role: each is its identity, not the role.
        if let Some(id) = iam
            .cognito_identity
            .as_ref()
            .and_then(|c| c.identity_id.as_deref())
        {
            return Some(Owner::parse(&format!("cognito:{id}")).map_err(|_| AuthError::Invalid));
        }
        if let Some(arn) = iam.user_arn.as_deref() {
            return Some(Owner::from_iam_arn(arn).map_err(|_| AuthError::Invalid));
        }
    }
    let field = |name: &str| authorizer.fields.get(name);
    let sub = field("claims")
        .and_then(|claims| claims.get("sub"))
        .or_else(|| field("principalId"))
        .and_then(|value| value.as_str());
    sub.map(|sub| Owner::parse(sub).map_err(|_| AuthError::Invalid))
}

/// The owner a request context names.
///
/// # Errors
/// [`AuthError::Missing`] when the context carries no identity; [`AuthError::Invalid`] when the
/// identity is not a valid owner (empty, control characters, too long).
pub fn owner_of(context: &RequestContext) -> Result<Owner, AuthError> {
    let found = match context {
        RequestContext::ApiGatewayV2(v2) => v2.authorizer.as_ref().and_then(owner_of_authorizer),
        RequestContext::ApiGatewayV1(v1) => owner_of_authorizer(&v1.authorizer).or_else(|| {
            v1.identity
                .user_arn
                .as_deref()
                .map(|arn| Owner::from_iam_arn(arn).map_err(|_| AuthError::Invalid))
        }),
        _ => None,
    };
    found.unwrap_or(Err(AuthError::Missing))
}

#[async_trait]
impl Authenticator for AuthorizerAuth {
    async fn authenticate(&self, request: &Parts) -> Result<Caller, AuthError> {
        let context = request
            .extensions
            .get::<RequestContext>()
            .ok_or(AuthError::Missing)?;
        Ok(Caller::new(owner_of(context)?))
    }
}
