//! `--if-not-exists` for create commands: when the service says the object already exists
//! (409), fetch it and compare it with what was asked. Equal on every field the command sets
//! means success (re-run CI jobs), any difference is a refusal naming the fields.

use crate::api::validate::normalize_tags;
use crate::error::{Error, ErrorKind};

/// One field the create command sets, as the existing object has it and as it was asked.
pub struct Field {
    name: &'static str,
    existing: String,
    asked: String,
    same: bool,
}

impl Field {
    /// A text field; a flag not given asks for the empty text the service would store.
    pub fn text(name: &'static str, existing: &str, asked: Option<&str>) -> Field {
        let asked = asked.unwrap_or_default();
        Field {
            name,
            existing: existing.to_owned(),
            asked: asked.to_owned(),
            same: existing == asked,
        }
    }

    /// An optional field; not given asks for none.
    pub fn optional(name: &'static str, existing: Option<&str>, asked: Option<&str>) -> Field {
        Field {
            name,
            existing: existing.unwrap_or("(none)").to_owned(),
            asked: asked.unwrap_or("(none)").to_owned(),
            same: existing == asked,
        }
    }

    /// A reference given by name or ID (product, cohort): the same when either matches.
    pub fn reference(
        name: &'static str,
        existing: Option<(&str, &str)>,
        asked: Option<&str>,
    ) -> Field {
        let same = match (existing, asked) {
            (Some((name, id)), Some(asked)) => asked == name || asked == id,
            (None, None) => true,
            _ => false,
        };
        Field {
            name,
            existing: existing.map_or("(none)", |(name, _)| name).to_owned(),
            asked: asked.unwrap_or("(none)").to_owned(),
            same,
        }
    }

    /// Tags compare as a set, in the stored (sorted, deduplicated) form.
    pub fn tags(existing: &[String], asked: &[String]) -> Field {
        let asked = normalize_tags(asked.to_vec());
        let existing = normalize_tags(existing.to_vec());
        Field {
            name: "tags",
            same: existing == asked,
            existing: list(&existing),
            asked: list(&asked),
        }
    }
}

fn list(tags: &[String]) -> String {
    if tags.is_empty() {
        "(none)".to_owned()
    } else {
        tags.join(", ")
    }
}

/// Whether a create failed because something by that name already exists (or another 409:
/// the caller's lookup then finds nothing and the original error stands).
pub fn is_conflict(err: &Error) -> bool {
    err.http_status == Some(409)
}

/// The object a 409 was about, fetched with `lookup`. The lookup runs after the refused
/// create, so the object may have been deleted or changed in between: a lookup that finds
/// nothing leaves the original refusal standing, and a changed object is compared as it now is.
pub async fn existing<T>(
    conflict: Error,
    lookup: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match lookup.await {
        Ok(found) => Ok(found),
        Err(err) if err.kind == ErrorKind::NotFound => Err(conflict),
        Err(err) => Err(err),
    }
}

/// `Ok` when every field matches; otherwise a refusal (exit 7) that names each differing field
/// with both values. `what` names the object ("product `indoor-sensor`"), `show` is the
/// command that prints it.
pub fn check(what: &str, show: &str, fields: Vec<Field>) -> Result<(), Error> {
    let differing: Vec<Field> = fields.into_iter().filter(|f| !f.same).collect();
    if differing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = differing.iter().map(|f| f.name).collect();
    let details: String = differing
        .iter()
        .map(|f| {
            format!(
                "\n  {}: exists as `{}`, asked `{}`",
                f.name, f.existing, f.asked
            )
        })
        .collect();
    Err(Error::new(
        ErrorKind::Rejected,
        format!(
            "{what} already exists with a different {}:{details}",
            names.join(", ")
        ),
    )
    .hint(format!(
        "see it with `{show}`; change it with `update`, or ask for what exists"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fields_pass_and_tags_compare_as_sets() {
        let fields = vec![
            Field::text("description", "", None),
            Field::tags(&["a:1".into(), "b:2".into()], &["b:2".into(), "a:1".into()]),
            Field::reference("product", Some(("p", "prd_1")), Some("prd_1")),
            Field::optional("target", None, None),
        ];
        assert!(check("x", "show", fields).is_ok());
    }

    #[test]
    fn a_difference_names_the_field_and_both_values() {
        let fields = vec![
            Field::text("description", "old", Some("new")),
            Field::reference("cohort", None, Some("beta")),
        ];
        let err = check("device `d`", "fleet device show d", fields).expect_err("differs");
        assert_eq!(err.exit_code(), 7);
        assert!(
            err.message.contains("different description, cohort"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("exists as `old`, asked `new`"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("exists as `(none)`, asked `beta`"),
            "{}",
            err.message
        );
    }
}
