//! Cleaning discovery descriptions into rustdoc Markdown.
//!
//! Discovery documents flatten bullet lists into one line (`values: * home * work`), use links
//! relative to the documentation site (`(/people/api/rest/v1/...)`), and contain text that rustdoc
//! would misread: bare URLs, `[brackets]` that are not links, `<tags>`, indented lines (which would
//! become doctests) and code fences without a language. `clean` fixes all of these.

/// Turn a description into Markdown lines for `#[doc]` attributes.
///
/// `origin` is the scheme and host relative links are resolved against
/// (`https://developers.google.com`).
pub fn clean(text: &str, origin: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut in_fence = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with("```") {
            if in_fence {
                lines.push("```".into());
            } else {
                lines.push("```text".into());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            lines.push(raw.to_string());
            continue;
        }
        for l in split_lists(line) {
            lines.push(escape_inline(&l, origin));
        }
    }
    if in_fence {
        lines.push("```".into());
    }
    // A list item followed directly by a paragraph line would be a lazy continuation: separate them.
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for l in lines {
        if let Some(prev) = out.last() {
            let prev_item = is_item(prev);
            let paragraph_after_list = prev_item && !l.is_empty() && !is_item(&l);
            let list_after_paragraph = !prev.is_empty() && !prev_item && is_item(&l);
            if paragraph_after_list || list_after_paragraph {
                out.push(String::new());
            }
        }
        out.push(l);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

fn is_item(l: &str) -> bool {
    l.starts_with("* ") || l.starts_with("- ")
}

/// Restore flattened lists: ` * item` and `. - item` start new items.
fn split_lists(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut in_code = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' {
            in_code = !in_code;
        }
        let rest = &line[i..];
        let item_star = !in_code && rest.starts_with(" * ") && !cur.ends_with('*');
        let item_dash = !in_code
            && rest.starts_with(" - ")
            && (cur.ends_with('.')
                || cur.ends_with(':')
                || out.last().is_some_and(|l: &String| l.starts_with("- ")));
        let lead_item =
            cur.is_empty() && out.is_empty() && (rest.starts_with("* ") || rest.starts_with("- "));
        if item_star || item_dash {
            let trimmed = cur.trim_end().to_string();
            if !trimmed.is_empty() {
                out.push(trimmed);
            }
            cur = String::from(if item_star { "* " } else { "- " });
            i += 3;
            continue;
        }
        if lead_item {
            cur.push_str(&rest[..2]);
            i += 2;
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        cur.push(ch);
        i += ch.len_utf8();
    }
    let trimmed = cur.trim_end().to_string();
    if !trimmed.is_empty() || out.is_empty() {
        out.push(trimmed);
    }
    out
}

/// Escape one line outside code spans: absolute links, `<bare urls>`, `\[brackets\]`, `&lt;tags&gt;`.
fn escape_inline(line: &str, origin: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            // Copy a code span verbatim, if it closes.
            if let Some(end) = chars[i + 1..].iter().position(|&x| x == '`') {
                out.extend(&chars[i..=i + 1 + end]);
                i += end + 2;
                continue;
            }
            out.push_str("\\`");
            i += 1;
            continue;
        }
        if c == '[' {
            if let Some((text_end, url_end)) = markdown_link(&chars, i) {
                let text: String = chars[i + 1..text_end].iter().collect();
                let url: String = chars[text_end + 2..url_end].iter().collect();
                let url = url.trim();
                let url = if url.starts_with('/') {
                    format!("{origin}{url}")
                } else {
                    url.to_string()
                };
                out.push('[');
                out.push_str(&escape_inline(&text, origin));
                out.push_str("](");
                out.push_str(&url);
                out.push(')');
                i = url_end + 1;
                continue;
            }
            out.push_str("\\[");
            i += 1;
            continue;
        }
        if c == ']' {
            out.push_str("\\]");
            i += 1;
            continue;
        }
        if c == 'h' && (starts_with(&chars, i, "https://") || starts_with(&chars, i, "http://")) {
            let mut end = i;
            while end < chars.len() && !chars[end].is_whitespace() && !"<>\"`".contains(chars[end])
            {
                end += 1;
            }
            // Trailing sentence punctuation is not part of the URL.
            while end > i && ".,;:)".contains(chars[end - 1]) {
                if chars[end - 1] == ')' && chars[i..end].contains(&'(') {
                    break;
                }
                end -= 1;
            }
            let url: String = chars[i..end].iter().collect();
            out.push('<');
            out.push_str(&url);
            out.push('>');
            i = end;
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn starts_with(chars: &[char], at: usize, s: &str) -> bool {
    (at..).zip(s.chars()).all(|(i, c)| chars.get(i) == Some(&c))
}

/// `[text](url)` starting at `start`: the index of `]` and of `)`.
fn markdown_link(chars: &[char], start: usize) -> Option<(usize, usize)> {
    let mut depth = 0;
    let mut j = start;
    let text_end = loop {
        match chars.get(j)? {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break j;
                }
            }
            _ => {}
        }
        j += 1;
    };
    if chars.get(text_end + 1) != Some(&'(') {
        return None;
    }
    let mut k = text_end + 2;
    let mut parens = 1;
    while let Some(&c) = chars.get(k) {
        match c {
            '(' => parens += 1,
            ')' => {
                parens -= 1;
                if parens == 0 {
                    let url: String = chars[text_end + 2..k].iter().collect();
                    if url.trim().is_empty() || url.trim().contains(' ') {
                        return None;
                    }
                    return Some((text_end, k));
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::clean;

    const O: &str = "https://developers.google.com";

    #[test]
    fn restores_flattened_lists() {
        let l = clean(
            "The type can be custom or one of these predefined values: * `home` * `work`",
            O,
        );
        assert_eq!(
            l,
            vec![
                "The type can be custom or one of these predefined values:",
                "",
                "* `home`",
                "* `work`"
            ]
        );
    }

    #[test]
    fn restores_dash_lists() {
        let l = clean(
            "Required. The name. - To get the user, specify `people/me`. - To get a contact, use it.",
            O,
        );
        assert_eq!(
            l,
            vec![
                "Required. The name.",
                "",
                "- To get the user, specify `people/me`.",
                "- To get a contact, use it."
            ]
        );
    }

    #[test]
    fn keeps_bold_and_wildcards() {
        let l = clean(
            "**DEPRECATED** (Please use `person.ageRanges` instead) people/* are fine",
            O,
        );
        assert_eq!(
            l,
            vec!["**DEPRECATED** (Please use `person.ageRanges` instead) people/* are fine"]
        );
    }

    #[test]
    fn makes_links_absolute_and_escapes() {
        let l = clean(
            "For [`contactGroups.create`](/people/api/rest/v1/contactGroups/create) see https://x.test/a.",
            O,
        );
        assert_eq!(
            l,
            vec![
                "For [`contactGroups.create`](https://developers.google.com/people/api/rest/v1/contactGroups/create) see <https://x.test/a>."
            ]
        );
        let l = clean(
            "[HTTP 1.1 status code] (http://w3.org/x). Keys as [\"k\"] and <b>bold</b>",
            O,
        );
        assert_eq!(
            l,
            vec![
                "\\[HTTP 1.1 status code\\] (<http://w3.org/x>). Keys as \\[\"k\"\\] and &lt;b&gt;bold&lt;/b&gt;"
            ]
        );
    }

    #[test]
    fn indented_lines_do_not_become_code() {
        let l = clean("Example:\n    foo()\n```\nx\n```", O);
        assert_eq!(l, vec!["Example:", "foo()", "```text", "x", "```"]);
    }

    #[test]
    fn list_then_paragraph_is_separated() {
        let l = clean("Values: * a * b\nAfter.", O);
        assert_eq!(l, vec!["Values:", "", "* a", "* b", "", "After."]);
    }
}
