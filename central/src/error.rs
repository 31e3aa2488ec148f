//! What can go wrong in the service, as the client and the operator need to see it.

use protocol::{RpcError, Ticket, code, rpc_code};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A clinic rule said no: `code` is the wire's string code.
    #[error("{code}: {message}")]
    Domain { code: &'static str, message: String, ticket: Option<Box<Ticket>> },
    /// The request's params were wrong; `message` names the field.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// The answer stored for a repeated requestId, given again as it was.
    #[error("replayed: {}", .0.message)]
    Replayed(Box<RpcError>),
    /// The token may not do this (role, clinic, device or cabinet): the reason is for the log
    /// and metrics; the client sees one plain "нет прав".
    #[error("forbidden: {0:?}")]
    Forbidden(crate::metrics::Refusal),
    /// A requestId used before with another method or other params.
    #[error("requestId reused with different params")]
    RequestIdReused,
    /// Too many identity lookups or bookings.
    #[error("rate limited")]
    RateLimited,
    /// The database failed. Logged in full, shown to the client as "internal error" only.
    #[error("storage: {0}")]
    Store(#[from] sqlx::Error),
}

impl ApiError {
    pub fn domain(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Domain { code, message: message.into(), ticket: None }
    }

    pub fn not_found() -> ApiError {
        // The same answer for an unknown policy and a wrong birth date: the API must not tell
        // who is insured.
        ApiError::domain(code::PATIENT_NOT_FOUND, "Пациент с такими полисом и датой рождения не найден")
    }

    /// The wire error. Internals never leave the server.
    pub fn to_rpc(&self) -> RpcError {
        match self {
            ApiError::Domain { code, message, ticket } => {
                let mut e = RpcError::domain(code, message.clone());
                if let Some(d) = e.data.as_mut() {
                    d.ticket = ticket.as_deref().cloned();
                }
                e
            }
            ApiError::InvalidParams(m) => RpcError::invalid_params(m.clone()),
            ApiError::Forbidden(_) => RpcError::domain(code::FORBIDDEN, "Нет прав на это действие"),
            ApiError::RequestIdReused => RpcError::domain(
                code::REQUEST_ID_REUSED,
                "Этот requestId уже использован для другого запроса",
            ),
            ApiError::RateLimited => {
                RpcError::domain(code::RATE_LIMITED, "Слишком много попыток, подождите минуту")
            }
            ApiError::Replayed(e) => (**e).clone(),
            ApiError::Store(_) => RpcError {
                code: rpc_code::INTERNAL,
                message: "Внутренняя ошибка сервиса, повторите позже".into(),
                data: Some(protocol::ErrorData { code: code::INTERNAL.into(), ticket: None }),
            },
        }
    }
}

/// A PostgreSQL serialization failure or deadlock: the transaction was rolled back and may
/// simply be run again.
pub fn is_retryable(e: &ApiError) -> bool {
    match e {
        ApiError::Store(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40001") | Some("40P01"))
        }
        _ => false,
    }
}

/// Unique-constraint violations, whichever database raised them.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
