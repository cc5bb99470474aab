//! The IAM Service Account Credentials API (`signJwt`, `generateAccessToken`) and the Security
//! Token Service (`v1/token`), enough for keyless delegation, impersonation and workload identity
//! federation: a caller may act as a service account only with a Token Creator grant (through
//! each delegate in turn), keys of keyless accounts never leave the emulator, and the STS accepts
//! subject tokens from registered issuers only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

use crate::auth::{Auth, OAuthError, ServiceAccount, oauth_error};
use crate::errors::ApiError;

/// The scope that allows calling IAM and the STS.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const IAM_SCOPE: &str = "https://www.googleapis.com/auth/iam";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A key held by the emulator for a keyless account (as Google holds it).
#[derive(Debug, Clone)]
pub(crate) struct ManagedKey {
    pub key: Arc<RsaKeyPair>,
    pub kid: String,
}

/// A workload identity pool provider: its audience and the issuer whose tokens it accepts.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub issuer: String,
}

/// `POST /v1/projects/-/serviceAccounts/{email}:{verb}`: the email and the verb.
pub(crate) fn route(method: &str, path: &str) -> Option<(String, String)> {
    if method != "POST" {
        return None;
    }
    let rest = path.strip_prefix("/v1/projects/-/serviceAccounts/")?;
    let (email, verb) = rest.rsplit_once(':')?;
    let email = url::form_urlencoded::parse(format!("e={email}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    matches!(verb, "signJwt" | "generateAccessToken").then(|| (email, verb.to_string()))
}

fn permission_denied(permission: &str, email: &str) -> ApiError {
    ApiError::with_details(
        403,
        "PERMISSION_DENIED",
        format!("Permission '{permission}' denied on resource (or it may not exist)."),
        vec![json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "IAM_PERMISSION_DENIED",
            "domain": "iam.googleapis.com",
            "metadata": {"permission": permission, "resource": format!("projects/-/serviceAccounts/{email}")}
        })],
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

/// `2014-10-02T15:01:23Z` for a Unix time.
fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Auth {
    /// Whether `caller` may act as `target` through `delegates`: each link of
    /// caller → delegates… → target needs a Token Creator grant. The first link that lacks one.
    fn chain_denied(&self, caller: &str, delegates: &[String], target: &str) -> Option<String> {
        let mut chain = vec![caller.to_string()];
        for d in delegates {
            chain.push(
                d.strip_prefix("projects/-/serviceAccounts/")
                    .unwrap_or(d)
                    .to_string(),
            );
        }
        chain.push(target.to_string());
        chain
            .windows(2)
            .find(|w| {
                let granted = |who: &str| {
                    self.token_creators
                        .contains(&(who.to_string(), w[1].clone()))
                };
                // A grant to a whole pool (`principalSet://…/*`) covers each of its subjects.
                !(granted(&w[0]) || pool_set_of(&w[0]).is_some_and(|set| granted(&set)))
            })
            .map(|w| w[1].clone())
    }

    /// The calling principal of an IAM request, checked for the cloud-platform or iam scope.
    pub(crate) fn iam_caller(&self, bearer: Option<&str>) -> Result<String, ApiError> {
        let info = bearer
            .and_then(|t| self.tokens.get(t))
            .filter(|i| i.expires > std::time::Instant::now())
            .ok_or_else(|| match bearer {
                None => ApiError::unauthenticated(),
                Some(_) => ApiError::invalid_credentials(),
            })?;
        if !info
            .scopes
            .iter()
            .any(|s| s == CLOUD_PLATFORM_SCOPE || s == IAM_SCOPE)
        {
            return Err(ApiError::scope_insufficient_for(
                json!({"service": "iamcredentials.googleapis.com"}),
            ));
        }
        Ok(info.user.clone())
    }

    fn delegates_of(body: &Value) -> Vec<String> {
        body["delegates"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `signJwt`: sign `payload` with the account's Google-held key.
    pub(crate) fn sign_jwt(
        &mut self,
        caller: &str,
        email: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let body: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::invalid("Invalid JSON payload received."))?;
        let delegates = Self::delegates_of(&body);
        if self.chain_denied(caller, &delegates, email).is_some() {
            return Err(permission_denied("iam.serviceAccounts.signJwt", email));
        }
        let managed = self.managed_keys.get(email).cloned().ok_or_else(|| {
            ApiError::not_found(format!("Not found; Gaia id not found for email {email}"))
        })?;
        let payload = body["payload"]
            .as_str()
            .ok_or_else(|| ApiError::invalid("payload is required."))?;
        let claims: Value = serde_json::from_str(payload)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| ApiError::invalid("Payload is not a valid JSON object."))?;
        match claims["exp"].as_i64() {
            Some(exp) if exp > now() + 12 * 3600 => {
                return Err(ApiError::invalid(
                    "Payload exp claim cannot be more than 12 hours in the future.",
                ));
            }
            _ => {}
        }
        let header = json!({"alg": "RS256", "kid": managed.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut sig = vec![0; managed.key.public().modulus_len()];
        managed
            .key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| ApiError::for_status(500))?;
        Ok(
            json!({"keyId": managed.kid, "signedJwt": format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))}),
        )
    }

    /// `generateAccessToken`: a token of the account for the requested scopes.
    pub(crate) fn generate_access_token(
        &mut self,
        caller: &str,
        email: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let body: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::invalid("Invalid JSON payload received."))?;
        let delegates = Self::delegates_of(&body);
        if self.chain_denied(caller, &delegates, email).is_some() {
            return Err(permission_denied(
                "iam.serviceAccounts.getAccessToken",
                email,
            ));
        }
        if !self.service_accounts.contains_key(email) {
            return Err(ApiError::not_found(format!(
                "Not found; Gaia id not found for email {email}"
            )));
        }
        let scopes: Vec<String> = body["scope"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if scopes.is_empty() {
            return Err(ApiError::invalid("Scope is required."));
        }
        let lifetime = match body["lifetime"].as_str() {
            None => 3600,
            Some(l) => l
                .strip_suffix('s')
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| (1..=3600).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "The lifetime {l:?} is not a duration from 1s to 3600s."
                    ))
                })?,
        };
        let (token, secs) = self.issue(email, scopes, Duration::from_secs(lifetime));
        Ok(json!({"accessToken": token, "expireTime": rfc3339(now() + secs as i64)}))
    }

    /// The STS `v1/token` exchange: a subject token (a JWT from a registered issuer) for a
    /// federated access token of `principal://iam.googleapis.com/{pool}/subject/{sub}`.
    pub(crate) fn sts_token(&mut self, form: &[u8], ttl: Duration) -> Result<Value, OAuthError> {
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(form).into_owned().collect();
        let get = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
        if get("grant_type") != TOKEN_EXCHANGE {
            return Err(oauth_error(
                400,
                "unsupported_grant_type",
                &format!("Unsupported grant type: {:?}", get("grant_type")),
            ));
        }
        if get("requested_token_type") != ACCESS_TOKEN_TYPE {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Invalid requested_token_type.",
            ));
        }
        let audience = get("audience");
        let provider = self.providers.get(audience).cloned().ok_or_else(|| {
            oauth_error(400, "invalid_target", "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.")
        })?;
        if !matches!(
            get("subject_token_type"),
            "urn:ietf:params:oauth:token-type:jwt" | "urn:ietf:params:oauth:token-type:id_token"
        ) {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Invalid subject_token_type.",
            ));
        }
        let claims = get("subject_token")
            .split('.')
            .nth(1)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok())
            .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
            .ok_or_else(|| oauth_error(400, "invalid_grant", "Unable to parse the ID Token."))?;
        if claims["iss"].as_str() != Some(provider.issuer.as_str()) {
            return Err(oauth_error(
                400,
                "invalid_grant",
                "The issuer in ID Token does not match the expected ones.",
            ));
        }
        if claims["exp"].as_i64().is_none_or(|e| e <= now()) {
            return Err(oauth_error(400, "invalid_grant", "ID Token has expired."));
        }
        let sub = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| oauth_error(400, "invalid_grant", "The ID Token has no sub claim."))?;
        let scopes: Vec<String> = get("scope").split_whitespace().map(str::to_owned).collect();
        let (token, secs) = self.issue(&federated_principal(audience, sub), scopes, ttl);
        Ok(json!({
            "access_token": token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": secs
        }))
    }

    /// Register an account whose key Google (the emulator) holds.
    pub(crate) fn add_managed(
        &mut self,
        email: &str,
        pkcs8: &[u8],
        delegation: bool,
    ) -> Result<(), String> {
        let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| "not an RSA PKCS#8 key".to_string())?;
        self.counter += 1;
        let kid = format!("{:040x}", self.counter);
        self.service_accounts.insert(
            email.into(),
            ServiceAccount {
                public_key: key.public().as_ref().to_vec(),
                delegation,
            },
        );
        self.managed_keys.insert(
            email.into(),
            ManagedKey {
                key: Arc::new(key),
                kid,
            },
        );
        Ok(())
    }
}

/// Every identity of the workload identity pool of `audience`:
/// `principalSet://iam.googleapis.com/{pool}/*` (grant it to let any of them act as an account).
pub fn federated_principal_set(audience: &str) -> String {
    format!("principalSet://iam.googleapis.com/{}/*", pool_of(audience))
}

/// `projects/…/workloadIdentityPools/…` of a provider's audience.
fn pool_of(audience: &str) -> &str {
    audience
        .trim_start_matches("//iam.googleapis.com/")
        .split("/providers/")
        .next()
        .unwrap_or_default()
}

/// The pool set a federated principal belongs to.
fn pool_set_of(principal: &str) -> Option<String> {
    let rest = principal.strip_prefix("principal://iam.googleapis.com/")?;
    let (pool, _) = rest.split_once("/subject/")?;
    Some(format!("principalSet://iam.googleapis.com/{pool}/*"))
}

/// The principal a federated subject becomes: `principal://iam.googleapis.com/{pool}/subject/{sub}`,
/// where `{pool}` is the audience's `projects/…/workloadIdentityPools/…`.
pub fn federated_principal(audience: &str, subject: &str) -> String {
    format!(
        "principal://iam.googleapis.com/{}/subject/{subject}",
        pool_of(audience)
    )
}
