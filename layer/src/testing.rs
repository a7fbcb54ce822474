//! The crate's insides that its integration tests (`layer/tests`), fuzz
//! targets (`fuzz/`) and benchmarks (`layer/benches`) use: hidden from the
//! docs, not an API, changed with any commit that needs to.
//!
//! Owns: the list of what those harnesses may reach, one module per module
//! of the crate, so the dead-code lint sees every item nothing uses.
//! Must not: hold code of its own (re-exports only), or be used by the
//! binary (`main.rs` has the crate root's re-exports).

/// `crate::body`.
pub mod body {
    pub use crate::body::{decode_base64, encode_base64, encode_base64_into};

    /// `crate::body::escape`.
    pub mod escape {
        pub use crate::body::escape::write_escaped;
    }
}

/// `crate::compress`.
pub mod compress {
    pub use crate::compress::{encode, Coding};
}

/// `crate::config`.
pub mod config {
    pub use crate::config::{ApiAddress, Config, ConfigError};

    /// `crate::config::settings`.
    pub mod settings {
        pub use crate::config::settings::{Documented, LAMBDA_SETTINGS, SETTINGS};
    }
}

/// `crate::deadline`.
pub mod deadline {
    pub use crate::deadline::Deadline;
}

/// `crate::error`.
pub mod error {
    pub use crate::error::PortsideError;
}

/// `crate::event`.
pub mod event {
    pub use crate::event::{
        parse, parse_split, pass_through_result, stream_prelude, to_json, to_result, Assembler,
        Event, HttpEvent, HttpSource, PassThrough, Payload, ResponseParts,
    };
}

/// `crate::header`.
pub mod header {
    pub use crate::header::is_hop_by_hop;
}

/// `crate::invoke`.
pub mod invoke {
    pub use crate::invoke::read_body;
}

/// `crate::limits`.
pub mod limits {
    pub use crate::limits::Limit;
}

/// `crate::log`.
pub mod log {
    pub use crate::log::now_timestamp;
}

/// `crate::proxy`.
pub mod proxy {
    pub use crate::proxy::{AppClient, Replay};
}

/// `crate::readiness`.
pub mod readiness {
    pub use crate::readiness::{read_rest, read_status};
}

/// `crate::record`.
pub mod record {
    pub use crate::record::{access_json, access_text, emf, Ending, Facts};
}

/// `crate::request`.
pub mod request {
    pub use crate::request::{
        http_request, json_header_value, pass_through_request, traceparent, InvocationInfo,
        LambdaContextWriter, AMZN_TRACE_ID, EVENT_SOURCE, LAMBDA_CONTEXT, REQUEST_CONTEXT,
        WEBSOCKET_CONNECTION_ID, WEBSOCKET_EVENT, WEBSOCKET_ROUTE,
    };
}

/// `crate::runtime_api`.
pub mod runtime_api {
    pub use crate::runtime_api::invocation_context;
}

/// `crate::uri`.
pub mod uri {
    pub use crate::uri::{authority, strip_base_path};
}
