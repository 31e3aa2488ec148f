//! What can go wrong in the service, as the client and the operator need to see it.

use domain::wire::{RpcError, Ticket, code, rpc_code};

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
            ApiError::Replayed(e) => (**e).clone(),
            ApiError::Store(_) => RpcError {
                code: rpc_code::INTERNAL,
                message: "Внутренняя ошибка сервиса, повторите позже".into(),
                data: Some(domain::wire::ErrorData { code: code::INTERNAL.into(), ticket: None }),
            },
        }
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
