//! The users to sync into: `--user`, or a file of them (one address a line, or a CSV with an
//! `email` or `primaryEmail` column, as `gam print users` writes).

use std::path::Path;

/// Read a users file; every bad line is reported.
pub fn read(path: &Path) -> Result<Vec<String>, Vec<String>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#')
    });
    let Some((_, first)) = lines.clone().next() else {
        return Err(vec![format!("{}: no user in it", path.display())]);
    };
    // A CSV with a header: take its email column.
    let header: Vec<String> = first
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = header
        .iter()
        .position(|h| h == "email" || h == "primaryemail" || h == "user");
    if column.is_some() {
        lines.next();
    }
    let mut users = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines {
        let value = match column {
            Some(c) => line.split(',').nth(c).unwrap_or("").trim(),
            None => line.trim(),
        };
        let value = value.trim_matches('"');
        if !value.contains('@') || value.contains(char::is_whitespace) {
            errors.push(format!(
                "{}: line {}: {value:?} is not a user's address",
                path.display(),
                i + 1
            ));
        } else if seen.insert(value.to_ascii_lowercase()) {
            users.push(value.to_string());
        }
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        Err(errors)
    }
}
