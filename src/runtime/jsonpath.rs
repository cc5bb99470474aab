//! The JSON path (`names[0].givenName`) of a position in a JSON text, for decode errors.
//!
//! serde_json says where a body failed (line and column); this walks the text up to there and
//! names the value being read. It is not generic, so the error path costs one small function
//! whatever the number of response types (instead of a second, path-tracking instantiation of
//! every type's `Deserialize`).

/// One level of nesting.
enum Frame {
    /// In an object: the key of the value being read, once its `:` was seen.
    Object { key: Option<String>, in_value: bool },
    /// In an array: the index of the element being read.
    Array(usize),
}

/// The byte offset of a 1-based (line, column) position, clamped to the text.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    (start + column.saturating_sub(1)).min(text.len())
}

/// The path of the value being read at byte `offset` of `text`: `names[0].givenName`, or the
/// empty string at the top level.
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                in_value: false,
            }),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object { key, in_value }) => {
                    *key = None;
                    *in_value = false;
                }
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { in_value, .. }) = stack.last_mut() {
                    *in_value = true;
                }
            }
            b'"' => {
                let (s, next) = string_at(bytes, i + 1, end);
                if let Some(Frame::Object { key, in_value }) = stack.last_mut()
                    && !*in_value
                {
                    *key = Some(s);
                }
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object {
                key: Some(k),
                in_value: true,
            } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object { .. } => {}
            Frame::Array(n) => {
                path.push('[');
                path.push_str(&n.to_string());
                path.push(']');
            }
        }
    }
    path
}

/// The string starting at `start` (after its opening quote), unescaped as far as keys need, and
/// the index after its closing quote (or `end`).
fn string_at(bytes: &[u8], start: usize, end: usize) -> (String, usize) {
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        match bytes[i] {
            b'"' => return (String::from_utf8_lossy(&out).into_owned(), i + 1),
            b'\\' if i + 1 < end => {
                let c = bytes[i + 1];
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 8,
                    b'f' => 12,
                    // `\uXXXX` is kept as written: enough to name a key.
                    b'u' => {
                        out.extend_from_slice(b"\\u");
                        i += 2;
                        continue;
                    }
                    other => other,
                });
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path serde_json's error position points into.
    fn path_of_error(text: &str) -> String {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Name {
            #[serde(rename = "givenName")]
            given_name: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Person {
            names: Option<Vec<Name>>,
            tags: Option<std::collections::BTreeMap<String, Vec<u32>>>,
        }
        let e = serde_json::from_str::<Person>(text).err().unwrap();
        path_at(text, offset_of(text, e.line(), e.column()))
    }

    #[test]
    fn names_the_value_at_fault() {
        assert_eq!(
            path_of_error(r#"{"resourceName": "people/c1", "names": [{"givenName": 7}]}"#),
            "names[0].givenName"
        );
        assert_eq!(
            path_of_error(
                "{\n  \"names\": [\n    {\"givenName\": \"A\"},\n    {\"givenName\": [1]}\n  ]\n}"
            ),
            "names[1].givenName"
        );
        assert_eq!(
            path_of_error(r#"{"tags": {"a,b": [1, 2], "x\"y": [3, "four"]}}"#),
            "tags.x\"y[1]"
        );
        assert_eq!(
            path_of_error(r#"{"names": [{"givenName": "A"}, 5]}"#),
            "names[1]"
        );
        assert_eq!(path_of_error(r#"{"names": 5}"#), "names");
        // Truncated: the innermost value open at the end.
        assert_eq!(
            path_of_error(r#"{"names": [{"givenName": "Ad"#),
            "names[0].givenName"
        );
    }

    #[test]
    fn offsets_count_lines_and_columns() {
        let t = "ab\ncde\nf";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 2), 4);
        assert_eq!(offset_of(t, 3, 1), 7);
        assert_eq!(offset_of(t, 9, 9), t.len());
    }
}
