//! What a person, a textfile collector or a monitoring system reads: the report rendered as
//! text (grouped by level), Prometheus text exposition, or one Nagios line. (JSON is the
//! report serialised as it is.)

mod nagios;
mod prometheus;
mod text;

pub use nagios::render as nagios;
pub use prometheus::render as prometheus;
pub use text::render as text;
