//! Where a value sits in the tree being substituted, written out only for an error: a
//! blueprint has hundreds of values, and a valid one none.

use crate::support::json_fields::{child, item};

#[derive(Clone, Copy)]
pub(super) enum TreePath<'a> {
    /// The path the caller gave (e.g. `spec`; empty for the top level).
    Root(&'a str),
    Field(&'a TreePath<'a>, &'a str),
    Item(&'a TreePath<'a>, usize),
}

impl TreePath<'_> {
    /// `spec.a[0].b`: fields after a dot (none before the first when the root is empty),
    /// items in brackets.
    pub(super) fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut step = self;
        let mut path = loop {
            match step {
                TreePath::Root(root) => break root.to_string(),
                TreePath::Field(parent, _) | TreePath::Item(parent, _) => {
                    steps.push(step);
                    step = parent;
                }
            }
        };
        for step in steps.into_iter().rev() {
            path = match step {
                TreePath::Field(_, key) => child(&path, key),
                TreePath::Item(_, index) => item(&path, *index),
                TreePath::Root(_) => path,
            };
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_items() {
        for (root, expected) in [("spec", "spec.a[2].b"), ("", "a[2].b")] {
            let root = TreePath::Root(root);
            let a = TreePath::Field(&root, "a");
            let two = TreePath::Item(&a, 2);
            assert_eq!(TreePath::Field(&two, "b").render(), expected);
        }
        assert_eq!(TreePath::Item(&TreePath::Root(""), 0).render(), "[0]");
        assert_eq!(TreePath::Root("spec").render(), "spec");
    }
}
