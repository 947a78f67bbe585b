//! Step: the blueprints this namespace may use. A forbidden blueprint is a
//! problem and is never looked up.

use super::{Context, Findings};
use crate::report::Problem;
use crate::settings::access::Access;

/// The blueprints of `requested` that the target's namespace may use.
pub fn allowed<'r>(context: &Context, requested: &'r [String], findings: &mut Findings) -> Vec<&'r str> {
    let namespace = &context.target.namespace;
    let mut labels = || super::namespace::labels(context);
    let mut allowed = Vec::new();
    for blueprint in requested {
        match context
            .settings
            .blueprint_access
            .decide(blueprint, namespace, &mut labels)
        {
            Access::Allowed => allowed.push(blueprint.as_str()),
            Access::Forbidden(why) => findings.problem(Problem::blueprint(blueprint, why)),
            Access::Unknown(why) => findings.lookup_failed(super::namespace::lookup_name(context), &why),
        }
    }
    allowed
}
