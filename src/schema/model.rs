//! The normalized schema model. The plain data types live in [`crate::db::model`] so
//! each engine's introspection under `src/db/` can build them; this path keeps working.

pub use crate::db::model::*;
