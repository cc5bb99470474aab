//! Google-shaped error bodies: `{"error": {code, message, errors: [...], status, details}}`, with
//! both the legacy `errors[]` list and the `status`/`details` form, as the real server sends.

use serde_json::{Value, json};

/// An error response: HTTP status and body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub http: u16,
    pub body: Value,
}

fn reason_for(status: &str) -> &'static str {
    match status {
        "INVALID_ARGUMENT" | "OUT_OF_RANGE" => "badRequest",
        "FAILED_PRECONDITION" => "failedPrecondition",
        "UNAUTHENTICATED" => "authError",
        "PERMISSION_DENIED" => "forbidden",
        "NOT_FOUND" => "notFound",
        "ALREADY_EXISTS" | "ABORTED" => "conflict",
        "RESOURCE_EXHAUSTED" => "rateLimitExceeded",
        "UNAVAILABLE" => "backendError",
        _ => "backendError",
    }
}

/// The canonical numeric code of a status name.
pub fn code_of(status: &str) -> i64 {
    match status {
        "INVALID_ARGUMENT" => 3,
        "NOT_FOUND" => 5,
        "ALREADY_EXISTS" => 6,
        "PERMISSION_DENIED" => 7,
        "RESOURCE_EXHAUSTED" => 8,
        "FAILED_PRECONDITION" => 9,
        "ABORTED" => 10,
        "INTERNAL" => 13,
        "UNAVAILABLE" => 14,
        "UNAUTHENTICATED" => 16,
        _ => 2,
    }
}

impl ApiError {
    pub fn new(http: u16, status: &str, message: impl Into<String>) -> Self {
        Self::with_details(http, status, message, Vec::new())
    }

    pub fn with_details(
        http: u16,
        status: &str,
        message: impl Into<String>,
        details: Vec<Value>,
    ) -> Self {
        let message = message.into();
        let mut error = json!({
            "code": http,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason_for(status)}],
            "status": status,
        });
        if !details.is_empty() {
            error["details"] = Value::Array(details);
        }
        Self {
            http,
            body: json!({ "error": error }),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", message)
    }

    /// A required-mask error in the real server's words: `personFields mask is required. …` and
    /// `updatePersonFields mask is required. …` were observed, and `readMask is required. …`.
    pub fn mask_required(param: &str, doc_method: &str) -> Self {
        let what = if param.ends_with("Fields") {
            format!("{param} mask")
        } else {
            param.to_string()
        };
        Self::invalid(format!(
            "{what} is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/{doc_method}."
        ))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NOT_FOUND", message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    }

    pub fn scope_insufficient() -> Self {
        Self::scope_insufficient_for(
            json!({"service": "people.googleapis.com", "method": "google.people.v1.PeopleService"}),
        )
    }

    /// The token lacks the scope a service needs (`metadata` names the service).
    pub fn scope_insufficient_for(metadata: Value) -> Self {
        Self::with_details(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": metadata
            })],
        )
    }

    /// The body a fault of this HTTP status answers with.
    pub fn for_status(http: u16) -> Self {
        match http {
            400 => Self::invalid("Request contains an invalid argument."),
            401 => Self::invalid_credentials(),
            403 => Self::scope_insufficient(),
            404 => Self::not_found("Requested entity was not found."),
            409 => Self::new(409, "ABORTED", "The operation was aborted."),
            429 => crate::quota::critical_writes_exceeded(),
            500 => Self::new(500, "INTERNAL", "Internal error encountered."),
            503 => Self::new(503, "UNAVAILABLE", "The service is currently unavailable."),
            504 => Self::new(504, "DEADLINE_EXCEEDED", "The request timed out."),
            other => Self::new(other, "UNKNOWN", "Unknown error."),
        }
    }
}
