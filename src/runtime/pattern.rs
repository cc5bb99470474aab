//! A small regular-expression matcher for the `pattern` of discovery parameters.
//!
//! Discovery patterns are short and simple (`^people/[^/]+$`, `\d+`, `UA-(\d+)-(\d+)`,
//! `(ga:.+)|(rt:.+)`). This supports literals, `.`, classes `[...]` with ranges and negation,
//! `\d \w \s` and escaped literals, groups with alternation, the quantifiers `* + ?` and `{n}`,
//! `{n,}`, `{n,m}`, and the anchors `^ $`. A pattern is matched against the whole value. Anything
//! else makes [`full_match`] answer `None` (unknown), and the caller skips the check rather than
//! reject a valid value.

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Group(Vec<Vec<(Node, usize, usize)>>),
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Parser<'_> {
    fn alternation(&mut self) -> Option<Vec<Vec<(Node, usize, usize)>>> {
        let mut alts = vec![Vec::new()];
        while let Some(&c) = self.chars.peek() {
            match c {
                ')' => break,
                '|' => {
                    self.chars.next();
                    alts.push(Vec::new());
                }
                '^' | '$' => {
                    // Anchors are implied: the match is always whole.
                    self.chars.next();
                }
                _ => {
                    let atom = self.atom()?;
                    let (min, max) = self.quantifier()?;
                    alts.last_mut()?.push((atom, min, max));
                }
            }
        }
        Some(alts)
    }

    fn atom(&mut self) -> Option<Node> {
        match self.chars.next()? {
            '.' => Some(Node::Any),
            '(' => {
                if self.chars.peek() == Some(&'?') {
                    return None;
                }
                let inner = self.alternation()?;
                (self.chars.next()? == ')').then_some(Node::Group(inner))
            }
            '[' => self.class(),
            '\\' => self.escape().map(|(r, neg)| {
                if r.len() == 1 && r[0].0 == r[0].1 && !neg {
                    Node::Char(r[0].0)
                } else {
                    Node::Class(r, neg)
                }
            }),
            c if "*+?{}|)".contains(c) => None,
            c => Some(Node::Char(c)),
        }
    }

    fn escape(&mut self) -> Option<(Vec<(char, char)>, bool)> {
        let c = self.chars.next()?;
        Some(match c {
            'd' => (vec![('0', '9')], false),
            'D' => (vec![('0', '9')], true),
            'w' => (vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
            's' => (
                vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')],
                false,
            ),
            c if c.is_ascii_alphanumeric() => return None,
            c => (vec![(c, c)], false),
        })
    }

    fn class(&mut self) -> Option<Node> {
        let mut neg = false;
        if self.chars.peek() == Some(&'^') {
            self.chars.next();
            neg = true;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.chars.next()?;
            match c {
                ']' if !first => break,
                '\\' => {
                    let (r, n) = self.escape()?;
                    if n {
                        return None;
                    }
                    ranges.extend(r);
                }
                c => {
                    if self.chars.peek() == Some(&'-') {
                        self.chars.next();
                        match self.chars.peek() {
                            Some(&']') => {
                                ranges.push((c, c));
                                ranges.push(('-', '-'));
                            }
                            Some(_) => {
                                let hi = self.chars.next()?;
                                ranges.push((c, hi));
                            }
                            None => return None,
                        }
                    } else {
                        ranges.push((c, c));
                    }
                }
            }
            first = false;
        }
        Some(Node::Class(ranges, neg))
    }

    fn quantifier(&mut self) -> Option<(usize, usize)> {
        Some(match self.chars.peek() {
            Some('*') => {
                self.chars.next();
                (0, usize::MAX)
            }
            Some('+') => {
                self.chars.next();
                (1, usize::MAX)
            }
            Some('?') => {
                self.chars.next();
                (0, 1)
            }
            Some('{') => {
                self.chars.next();
                let mut spec = String::new();
                loop {
                    let c = self.chars.next()?;
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                match spec.split_once(',') {
                    None => {
                        let n = spec.trim().parse().ok()?;
                        (n, n)
                    }
                    Some((a, b)) => {
                        let lo = a.trim().parse().ok()?;
                        let hi = if b.trim().is_empty() {
                            usize::MAX
                        } else {
                            b.trim().parse().ok()?
                        };
                        (lo, hi)
                    }
                }
            }
            _ => (1, 1),
        })
    }
}

/// Positions reachable after matching `seq` from `pos` (a set-based, backtracking-free matcher).
fn seq_ends(seq: &[(Node, usize, usize)], input: &[char], pos: usize) -> Vec<usize> {
    let mut current = vec![pos];
    for (node, min, max) in seq {
        let mut next = Vec::new();
        let mut frontier = current.clone();
        let mut count = 0;
        if *min == 0 {
            next.extend(&current);
        }
        while !frontier.is_empty() && count < *max {
            let mut step = Vec::new();
            for &p in &frontier {
                for e in node_ends(node, input, p) {
                    if !step.contains(&e) {
                        step.push(e);
                    }
                }
            }
            count += 1;
            if count >= *min {
                for &e in &step {
                    if !next.contains(&e) {
                        next.push(e);
                    }
                }
            }
            // Stop once no new positions appear (handles `*` over empty-matching groups).
            step.retain(|e| !frontier.contains(e) || count < *min);
            frontier = step;
            if count > input.len() + 1 && count >= *min {
                break;
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

fn node_ends(node: &Node, input: &[char], pos: usize) -> Vec<usize> {
    match node {
        Node::Char(c) => (input.get(pos) == Some(c))
            .then_some(pos + 1)
            .into_iter()
            .collect(),
        Node::Any => (pos < input.len() && input[pos] != '\n')
            .then_some(pos + 1)
            .into_iter()
            .collect(),
        Node::Class(ranges, neg) => match input.get(pos) {
            Some(&c) => {
                let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                (inside != *neg).then_some(pos + 1).into_iter().collect()
            }
            None => Vec::new(),
        },
        Node::Group(alts) => {
            let mut out = Vec::new();
            for a in alts {
                for e in seq_ends(a, input, pos) {
                    if !out.contains(&e) {
                        out.push(e);
                    }
                }
            }
            out
        }
    }
}

/// Does `value` match `pattern` as a whole? `None` when the pattern is outside the subset.
pub fn full_match(pattern: &str, value: &str) -> Option<bool> {
    let mut p = Parser {
        chars: pattern.chars().peekable(),
    };
    let alts = p.alternation()?;
    if p.chars.next().is_some() {
        return None;
    }
    let input: Vec<char> = value.chars().collect();
    let root = Node::Group(alts);
    Some(node_ends(&root, &input, 0).contains(&input.len()))
}

#[cfg(test)]
mod tests {
    use super::full_match;

    #[test]
    fn people_patterns() {
        assert_eq!(full_match("^people/[^/]+$", "people/c123"), Some(true));
        assert_eq!(full_match("^people/[^/]+$", "people/me"), Some(true));
        assert_eq!(full_match("^people/[^/]+$", "people/"), Some(false));
        assert_eq!(full_match("^people/[^/]+$", "contactGroups/x"), Some(false));
        assert_eq!(full_match("^people/[^/]+$", "people/c1/x"), Some(false));
        assert_eq!(
            full_match("^contactGroups/[^/]+$", "contactGroups/myContacts"),
            Some(true)
        );
    }

    #[test]
    fn other_api_patterns() {
        assert_eq!(full_match("\\d+", "123"), Some(true));
        assert_eq!(full_match("\\d+", "12a"), Some(false));
        assert_eq!(full_match("UA-(\\d+)-(\\d+)", "UA-1-22"), Some(true));
        assert_eq!(full_match("(ga:.+)|(rt:.+)", "rt:x"), Some(true));
        assert_eq!(full_match("(ga:.+)|(rt:.+)", "xx:x"), Some(false));
        assert_eq!(full_match("(-)?ga:.+", "-ga:x"), Some(true));
        assert_eq!(full_match(".{22}", "abcdefghijabcdefghij12"), Some(true));
        assert_eq!(full_match(".{22}", "short"), Some(false));
        assert_eq!(
            full_match(
                "[0-9]{4}-[0-9]{2}-[0-9]{2}|today|yesterday|[0-9]+(daysAgo)",
                "7daysAgo"
            ),
            Some(true)
        );
        assert_eq!(full_match("ga", "ga"), Some(true));
    }

    #[test]
    fn unsupported_is_unknown() {
        assert_eq!(full_match("(?i)x", "x"), None);
        assert_eq!(full_match("\\bx", "x"), None);
        assert_eq!(full_match("(x", "x"), None);
    }
}
