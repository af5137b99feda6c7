//! The views the CLI and the API share, driven by the query catalog: the hotspot report
//! (the JSON contract, text, CSV and the top-N cut), how sure it is, what-if scenarios, and
//! the score and ranking tables. Above `query` (they run catalog queries in a session),
//! below `chart`, `dashboard`, `server` and the CLI, which all show them the same way.

pub mod hotspot;
pub mod score;
pub mod uncertainty;
pub mod whatif;
