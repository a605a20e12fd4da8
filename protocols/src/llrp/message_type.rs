//! LLRP 1.0.1 message type numbers and names (the table of LLRP 1.0.1 §16.1.1).

macro_rules! message_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        $($(#[$doc])* pub const $name: u16 = $value;)*

        /// The LLRP name of a message type, or `None` for a number the spec does not define.
        pub const fn name(message_type: u16) -> Option<&'static str> {
            match message_type {
                $($value => Some(stringify!($name)),)*
                _ => None,
            }
        }
    };
}

message_types! {
    /// Client asks what the reader can do.
    GET_READER_CAPABILITIES = 1;
    /// Client asks for the current configuration.
    GET_READER_CONFIG = 2;
    /// Client sets reader-wide configuration.
    SET_READER_CONFIG = 3;
    /// Answer to CLOSE_CONNECTION.
    CLOSE_CONNECTION_RESPONSE = 4;
    /// Answer to GET_READER_CAPABILITIES.
    GET_READER_CAPABILITIES_RESPONSE = 11;
    /// Answer to GET_READER_CONFIG.
    GET_READER_CONFIG_RESPONSE = 12;
    /// Answer to SET_READER_CONFIG.
    SET_READER_CONFIG_RESPONSE = 13;
    /// Client closes the connection.
    CLOSE_CONNECTION = 14;
    /// Client installs an ROSpec.
    ADD_ROSPEC = 20;
    /// Client removes an ROSpec (0 = all).
    DELETE_ROSPEC = 21;
    /// Client starts an ROSpec.
    START_ROSPEC = 22;
    /// Client stops an ROSpec.
    STOP_ROSPEC = 23;
    /// Client enables an ROSpec.
    ENABLE_ROSPEC = 24;
    /// Client disables an ROSpec.
    DISABLE_ROSPEC = 25;
    /// Client lists ROSpecs.
    GET_ROSPECS = 26;
    /// Answer to ADD_ROSPEC.
    ADD_ROSPEC_RESPONSE = 30;
    /// Answer to DELETE_ROSPEC.
    DELETE_ROSPEC_RESPONSE = 31;
    /// Answer to START_ROSPEC.
    START_ROSPEC_RESPONSE = 32;
    /// Answer to STOP_ROSPEC.
    STOP_ROSPEC_RESPONSE = 33;
    /// Answer to ENABLE_ROSPEC.
    ENABLE_ROSPEC_RESPONSE = 34;
    /// Answer to DISABLE_ROSPEC.
    DISABLE_ROSPEC_RESPONSE = 35;
    /// Answer to GET_ROSPECS.
    GET_ROSPECS_RESPONSE = 36;
    /// Client installs an AccessSpec.
    ADD_ACCESSSPEC = 40;
    /// Client removes an AccessSpec.
    DELETE_ACCESSSPEC = 41;
    /// Client enables an AccessSpec.
    ENABLE_ACCESSSPEC = 42;
    /// Client disables an AccessSpec.
    DISABLE_ACCESSSPEC = 43;
    /// Client lists AccessSpecs.
    GET_ACCESSSPECS = 44;
    /// Answer to ADD_ACCESSSPEC.
    ADD_ACCESSSPEC_RESPONSE = 50;
    /// Answer to DELETE_ACCESSSPEC.
    DELETE_ACCESSSPEC_RESPONSE = 51;
    /// Answer to ENABLE_ACCESSSPEC.
    ENABLE_ACCESSSPEC_RESPONSE = 52;
    /// Answer to DISABLE_ACCESSSPEC.
    DISABLE_ACCESSSPEC_RESPONSE = 53;
    /// Answer to GET_ACCESSSPECS.
    GET_ACCESSSPECS_RESPONSE = 54;
    /// Client asks for buffered reports.
    GET_REPORT = 60;
    /// Reader reports tag sightings.
    RO_ACCESS_REPORT = 61;
    /// Reader's periodic liveness message.
    KEEPALIVE = 62;
    /// Reader reports an event (connection, ROSpec, antenna...).
    READER_EVENT_NOTIFICATION = 63;
    /// Client lets a reader that holds reports send them (no response defined).
    ENABLE_EVENTS_AND_REPORTS = 64;
    /// Client acknowledges a KEEPALIVE.
    KEEPALIVE_ACK = 72;
    /// Reader rejects a message it could not process.
    ERROR_MESSAGE = 100;
    /// Vendor extension message (u32 PEN, u8 subtype, payload).
    CUSTOM_MESSAGE = 1023;
}

/// True when the LLRP 1.0.1 message table defines `message_type`.
pub const fn is_defined(message_type: u16) -> bool {
    name(message_type).is_some()
}

/// True for the responses whose body is just an LLRPStatus (and ERROR_MESSAGE).
pub const fn is_status_only(message_type: u16) -> bool {
    matches!(
        message_type,
        CLOSE_CONNECTION_RESPONSE
            | SET_READER_CONFIG_RESPONSE
            | ADD_ROSPEC_RESPONSE..=DISABLE_ROSPEC_RESPONSE
            | ADD_ACCESSSPEC_RESPONSE..=DISABLE_ACCESSSPEC_RESPONSE
            | ERROR_MESSAGE
    )
}
