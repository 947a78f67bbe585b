//! Blueprints resolved for a target: substitution, variables, the generated objects, their record.

pub mod emission;
pub mod kubestash;
pub mod objects;
pub mod substitution;
pub mod variables;
