//! The JSON-RPC 2.0 envelope as central speaks it (`shared/specs/central-api.md` §1): requests,
//! responses, errors with their numeric and string codes, and the two tolerant readers the
//! server and the client start with (both fuzzed).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::queue::Ticket;

/// JSON-RPC protocol error codes.
pub mod rpc_code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL: i64 = -32603;
    /// Domain errors: the string code in `error.data.code` says which.
    pub const DOMAIN: i64 = 1;
}

/// The string codes of domain errors (`error.data.code`).
pub mod code {
    pub const INVALID_PARAMS: &str = "INVALID_PARAMS";
    pub const PATIENT_NOT_FOUND: &str = "PATIENT_NOT_FOUND";
    pub const PATIENT_NOT_ATTACHED: &str = "PATIENT_NOT_ATTACHED";
    pub const REFERRAL_REQUIRED: &str = "REFERRAL_REQUIRED";
    pub const REFERRAL_EXPIRED: &str = "REFERRAL_EXPIRED";
    pub const NOT_FOR_SEX: &str = "SPECIALITY_NOT_FOR_SEX";
    pub const TIME_CONFLICT: &str = "TIME_CONFLICT";
    pub const ALREADY_BOOKED: &str = "ALREADY_BOOKED";
    pub const SLOT_TAKEN: &str = "SLOT_TAKEN";
    pub const APPOINTMENT_NOT_FOUND: &str = "APPOINTMENT_RECEPTION_NOT_FOUND";
    pub const QUEUE_CLOSED: &str = "QUEUE_CLOSED";
    pub const ALREADY_IN_QUEUE: &str = "ALREADY_IN_QUEUE";
    pub const TICKET_NOT_FOUND: &str = "TICKET_NOT_FOUND";
    /// Ours: a waiting list is for a speciality with no free time; this one has some.
    pub const SLOTS_AVAILABLE: &str = "SLOTS_AVAILABLE";
    /// Ours: the speciality does not see patients of this age (a paediatrician, an adult).
    pub const AGE_LIMIT: &str = "AGE_LIMIT";
    /// Ours: the waiting-list offer was accepted or declined already, or its time has passed.
    pub const OFFER_GONE: &str = "OFFER_GONE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    /// HTTP 401: no token, or one central does not know.
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    /// The token's role may not call this method, or the request names another clinic,
    /// device or cabinet than the token is bound to ("нет прав").
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// A `requestId` repeated with different params: refused, never answered with the result
    /// of the other request.
    pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";
    /// `syncOfflineTickets`, per ticket: issued on an earlier day; that day's queue is over.
    pub const OFFLINE_TICKET_STALE: &str = "OFFLINE_TICKET_STALE";
}

/// The HTTP 401 body central answers with (and clients recognise).
pub fn unauthorized_body() -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": 401,
        "message": "Токен не принят центральной системой", "data": {"code": code::UNAUTHORIZED}}})
}

/// A request. `id` is echoed back as given (string, number or "").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub jsonrpc: String,
    #[serde(default)]
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

impl Request {
    pub fn new(id: impl Into<Value>, method: &str, params: impl Serialize) -> Request {
        Request {
            jsonrpc: "2.0".into(),
            id: id.into(),
            method: method.into(),
            params: serde_json::to_value(params).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    pub code: String,
    /// Extra machine-readable detail (ALREADY_IN_QUEUE carries the existing ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ErrorData>,
}

impl RpcError {
    pub fn domain(code: &str, message: impl Into<String>) -> RpcError {
        RpcError {
            code: rpc_code::DOMAIN,
            message: message.into(),
            data: Some(ErrorData { code: code.into(), ticket: None }),
        }
    }
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError {
            code: rpc_code::INVALID_PARAMS,
            message: message.into(),
            data: Some(ErrorData { code: code::INVALID_PARAMS.into(), ticket: None }),
        }
    }
    pub fn protocol(code: i64, message: impl Into<String>) -> RpcError {
        RpcError { code, message: message.into(), data: None }
    }
    /// The string code, when there is one.
    pub fn string_code(&self) -> Option<&str> {
        self.data.as_ref().map(|d| d.code.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub jsonrpc: String,
    pub id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

impl Response {
    pub fn ok(id: Value, result: Value) -> Response {
        Response { jsonrpc: "2.0".into(), id, result: Some(result), error: None }
    }
    pub fn err(id: Value, error: RpcError) -> Response {
        Response { jsonrpc: "2.0".into(), id, result: None, error: Some(error) }
    }
}

/// Why a request body is not a call (the server answers with the JSON-RPC code).
#[derive(Debug, Clone, PartialEq)]
pub enum EnvelopeError {
    /// Not JSON at all: `-32700`, no id to echo.
    NotJson,
    /// JSON, but not a JSON-RPC 2.0 call: `-32600`, echoing the id if there was one.
    NotJsonRpc { id: Value },
}

/// Reads a request body as a JSON-RPC 2.0 call (the server's first step; fuzzed).
pub fn parse_request(body: &[u8]) -> Result<Request, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    match serde_json::from_value::<Request>(value) {
        Ok(r) if r.jsonrpc == "2.0" => Ok(r),
        _ => Err(EnvelopeError::NotJsonRpc { id }),
    }
}

/// What a response body means to a client (fuzzed).
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyError {
    /// Not a JSON-RPC response: a proxy's error page, a cut body. Worth one more try.
    Garbage(String),
    /// Central answered with an error.
    Rpc(Box<RpcError>),
    /// A response, but its result is not what `method` returns.
    BadResult(String),
}

/// Decodes a response body to `method`'s result type.
pub fn decode_reply<T: serde::de::DeserializeOwned>(method: &str, body: &[u8]) -> Result<T, ReplyError> {
    let parsed: Response = serde_json::from_slice(body).map_err(|e| ReplyError::Garbage(e.to_string()))?;
    match (parsed.result, parsed.error) {
        (_, Some(e)) => Err(ReplyError::Rpc(Box::new(e))),
        (result, None) => serde_json::from_value(result.unwrap_or(Value::Null))
            .map_err(|e| ReplyError::BadResult(format!("{method}: {e}"))),
    }
}
