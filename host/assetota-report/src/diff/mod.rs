//! `diff OLD NEW`: the OTA transfer plan under the (name, SHA-256) identity:
//! what to send, what the device keeps, what it can remove; as JSON
//! ([`Plan`] itself), as text ([`plan_text`]) and as a report section
//! ([`plan_section`]).

mod plan;
mod section;
mod text;

pub use plan::{DiffAsset, Plan, Side};
pub use section::plan_section;
pub use text::plan_text;
