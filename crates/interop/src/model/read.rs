//! Reading a JSON payload field by field, collecting every problem with its JSON path.

use serde_json::{Map, Value};

use super::FieldError;

pub(super) struct Reader<'a> {
    pub(super) errors: Vec<FieldError>,
    obj: &'a Map<String, Value>,
    /// The JSON path of `obj` (`""` at the root, `riskAnalysisForm` inside it).
    prefix: &'a str,
}

impl<'a> Reader<'a> {
    /// A reader of `value`, which must be an object; `path` names it in errors (`body` at the
    /// root of a request).
    pub(super) fn new(value: &'a Value, path: &'a str) -> Result<Self, Vec<FieldError>> {
        match value.as_object() {
            Some(obj) => Ok(Self {
                errors: Vec::new(),
                obj,
                prefix: if path == "body" { "" } else { path },
            }),
            None => Err(vec![FieldError::new(path, "must be a JSON object")]),
        }
    }

    pub(super) fn path(&self, key: &str) -> String {
        join(self.prefix, key)
    }

    pub(super) fn err(&mut self, path: String, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    /// The value of `key`; `null` counts as absent.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// A string of `min..=max` characters once trimmed. Absent: an error when `required`.
    pub(super) fn text(
        &mut self,
        key: &str,
        min: usize,
        max: usize,
        required: bool,
    ) -> Option<String> {
        let path = self.path(key);
        match self.get(key) {
            None => {
                if required {
                    self.err(path, "is required");
                }
                None
            }
            Some(Value::String(s)) => match check_length(s, min, max) {
                Ok(t) => Some(t),
                Err(message) => {
                    self.err(path, message);
                    None
                }
            },
            Some(_) => {
                self.err(path, "must be a string");
                None
            }
        }
    }

    /// A required whole number in `min..=max`.
    pub(super) fn integer(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let path = self.path(key);
        let Some(value) = self.get(key) else {
            self.err(path, "is required");
            return None;
        };
        match whole_number(value) {
            Ok(n) if (i128::from(min)..=i128::from(max)).contains(&n) => i64::try_from(n).ok(),
            Ok(n) => {
                self.err(path, format!("must be between {min} and {max} (it is {n})"));
                None
            }
            Err(message) => {
                self.err(path, message);
                None
            }
        }
    }

    /// A required `true` or `false`.
    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        let path = self.path(key);
        match self.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            None => {
                self.err(path, "is required (true or false)");
                None
            }
            Some(_) => {
                self.err(path, "must be true or false");
                None
            }
        }
    }

    /// An optional `true` or `false`: absent or `null` is not said (`Some(None)`); anything
    /// else is an error (`None`).
    pub(super) fn optional_boolean(&mut self, key: &str) -> Option<Option<bool>> {
        match self.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                let path = self.path(key);
                self.err(path, "must be true or false");
                None
            }
        }
    }

    /// One of a fixed set of strings, read by `parse`; `allowed` lists them for the message.
    /// Absent: `default`, or an error when there is none.
    pub(super) fn choice<T>(
        &mut self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
        default: Option<T>,
    ) -> Option<T> {
        let path = self.path(key);
        match self.get(key) {
            None => {
                if default.is_none() {
                    self.err(path, format!("is required ({allowed})"));
                }
                default
            }
            Some(Value::String(s)) => {
                let parsed = parse(s);
                if parsed.is_none() {
                    self.err(path, format!("must be {allowed} (it is {s:?})"));
                }
                parsed
            }
            Some(_) => {
                self.err(path, format!("must be a string: {allowed}"));
                None
            }
        }
    }

    /// An optional list of non-empty, distinct strings (trimmed), each at most `item_max`
    /// characters, at most `max_items` of them. Absent: empty. `None` when it is invalid.
    pub(super) fn string_list(
        &mut self,
        key: &str,
        max_items: usize,
        item_max: usize,
    ) -> Option<Vec<String>> {
        let path = self.path(key);
        let items = match self.get(key) {
            None => return Some(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.err(path, "must be a list of strings");
                return None;
            }
        };
        if items.len() > max_items {
            self.err(
                path,
                format!(
                    "must have at most {max_items} entries (it has {})",
                    items.len()
                ),
            );
            return None;
        }
        let before = self.errors.len();
        let mut out: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match item {
                Value::String(s) => match check_length(s, 1, item_max) {
                    Ok(t) if out.contains(&t) => {
                        self.err(item_path, format!("{t:?} appears more than once"))
                    }
                    Ok(t) => out.push(t),
                    Err(message) => self.err(item_path, message),
                },
                _ => self.err(item_path, "must be a string"),
            }
        }
        (self.errors.len() == before).then_some(out)
    }
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `s` trimmed, when it has `min..=max` characters; else why not.
pub(super) fn check_length(s: &str, min: usize, max: usize) -> Result<String, String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 && min > 0 {
        Err("must not be empty".into())
    } else if n < min || n > max {
        Err(format!("must be {min} to {max} characters (it has {n})"))
    } else {
        Ok(t.to_string())
    }
}

/// A JSON number without a fractional part (`1e9` and `60.0` count: JSON does not tell
/// integers apart).
fn whole_number(value: &Value) -> Result<i128, &'static str> {
    let Value::Number(n) = value else {
        return Err("must be a number");
    };
    if let Some(i) = n.as_i64() {
        return Ok(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(i128::from(u));
    }
    match n.as_f64() {
        // Beyond 1e30 the exact value does not matter: it is out of every range.
        Some(f) if f.fract() == 0.0 => Ok(f.clamp(-1e30, 1e30) as i128),
        _ => Err("must be a whole number"),
    }
}
