//! Plain text for the terminal: tables and one-line summaries.

mod budget;
mod table;

pub use budget::{budget_line, budget_table, fit_matrix};
pub use table::{Table, count};
