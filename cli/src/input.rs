//! The directory file: CSV or JSONL, columns mapped to Person fields, every problem reported with
//! its line number before anything is sent.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use google_people::sync::Record;
use google_people::{
    Address, Biography, EmailAddress, FieldMask, Name, Person, PersonField, PhoneNumber,
};

/// A Person field a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    GivenName,
    FamilyName,
    MiddleName,
    Prefix,
    Suffix,
    Email,
    Phone,
    Mobile,
    Organization,
    Title,
    Department,
    Street,
    City,
    Region,
    PostalCode,
    Country,
    Notes,
    /// Read and dropped (an export's `resource_name`, or `--map COL=ignore`).
    Ignore,
}

/// Column names (normalized: lower case, `_` for anything not a letter or digit) and what they
/// fill. The first name of each target is the one `gpeople export` writes.
const NAMES: &[(&str, Target)] = &[
    ("given_name", Target::GivenName),
    ("first_name", Target::GivenName),
    ("family_name", Target::FamilyName),
    ("last_name", Target::FamilyName),
    ("surname", Target::FamilyName),
    ("middle_name", Target::MiddleName),
    ("prefix", Target::Prefix),
    ("suffix", Target::Suffix),
    ("email", Target::Email),
    ("emails", Target::Email),
    ("email_address", Target::Email),
    ("e_mail", Target::Email),
    ("phone", Target::Phone),
    ("phones", Target::Phone),
    ("work_phone", Target::Phone),
    ("mobile", Target::Mobile),
    ("mobile_phone", Target::Mobile),
    ("organization", Target::Organization),
    ("company", Target::Organization),
    ("title", Target::Title),
    ("job_title", Target::Title),
    ("department", Target::Department),
    ("street", Target::Street),
    ("city", Target::City),
    ("region", Target::Region),
    ("state", Target::Region),
    ("postal_code", Target::PostalCode),
    ("zip", Target::PostalCode),
    ("postcode", Target::PostalCode),
    ("country", Target::Country),
    ("notes", Target::Notes),
    ("resource_name", Target::Ignore),
    ("ignore", Target::Ignore),
];

/// The column names `gpeople export` writes, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "given_name",
    "family_name",
    "middle_name",
    "prefix",
    "suffix",
    "email",
    "phone",
    "mobile",
    "organization",
    "title",
    "department",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "notes",
];

fn normalize(column: &str) -> String {
    let mut out = String::new();
    for c in column.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The target a column name means, if any.
pub fn target_of(name: &str) -> Option<Target> {
    let n = normalize(name);
    NAMES.iter().find(|(k, _)| *k == n).map(|(_, t)| *t)
}

impl Target {
    /// The Person field it belongs to (`None` for [`Target::Ignore`]).
    pub fn field(self) -> Option<PersonField> {
        use Target::*;
        Some(match self {
            GivenName | FamilyName | MiddleName | Prefix | Suffix => PersonField::Names,
            Email => PersonField::EmailAddresses,
            Phone | Mobile => PersonField::PhoneNumbers,
            Organization | Title | Department => PersonField::Organizations,
            Street | City | Region | PostalCode | Country => PersonField::Addresses,
            Notes => PersonField::Biographies,
            Ignore => return None,
        })
    }
}

/// `--map COLUMN=FIELD` options: a column of the file and the known column name it stands for.
pub fn parse_maps(maps: &[String]) -> Result<HashMap<String, Target>, String> {
    let mut out = HashMap::new();
    for m in maps {
        let (col, field) = m.split_once('=').ok_or_else(|| {
            format!("--map {m:?}: expected COLUMN=FIELD, like \"First Name=given_name\"")
        })?;
        let target = target_of(field).ok_or_else(|| {
            format!(
                "--map {m:?}: unknown field {field:?} (known: {}, or ignore)",
                EXPORT_COLUMNS.join(", ")
            )
        })?;
        out.insert(normalize(col), target);
    }
    Ok(out)
}

/// A parsed directory: its records and the Person fields its columns manage.
#[derive(Debug)]
pub struct Directory {
    pub records: Vec<Record>,
    pub fields: FieldMask<PersonField>,
}

/// Read a CSV (`.csv`, or anything else) or JSONL (`.jsonl`, `.ndjson`) directory. Every problem
/// is reported, with its line, and nothing is returned unless there is none.
pub fn read(
    path: &Path,
    id_column: &str,
    maps: &HashMap<String, Target>,
) -> Result<Directory, Vec<String>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let jsonl = ext == "jsonl" || ext == "ndjson";
    let (rows, mut errors) = if jsonl {
        read_jsonl(path)?
    } else {
        read_csv(path)?
    };
    // Rows that parsed are checked too, so that one run shows every problem.
    match build(rows, id_column, maps, !jsonl) {
        Ok(d) if errors.is_empty() => Ok(d),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            errors.sort_by_key(|e| line_of(e));
            Err(errors)
        }
    }
}

/// One row: its line, and its (column, value) pairs.
type Row = (u64, Vec<(String, String)>);

/// The rows that parsed, and the lines that did not; `Err` when the file cannot be read at all.
type Parsed = Result<(Vec<Row>, Vec<String>), Vec<String>>;

/// The line a message names (`line N: …`), for sorting; 0 for the others.
fn line_of(message: &str) -> u64 {
    message
        .strip_prefix("line ")
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn read_csv(path: &Path) -> Parsed {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| vec![format!("{}: {e}", path.display())])?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| vec![format!("{}: line 1: {e}", path.display())])?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for result in reader.records() {
        match result {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line());
                rows.push((
                    line,
                    headers
                        .iter()
                        .cloned()
                        .zip(rec.iter().map(str::to_owned))
                        .collect(),
                ));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let what = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("{len} fields where the header has {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
                    _ => e.to_string(),
                };
                errors.push(format!("line {line}: {what}"));
            }
        }
    }
    Ok((rows, errors))
}

fn read_jsonl(path: &Path) -> Parsed {
    let text =
        std::fs::read_to_string(path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(obj) => {
                let mut values = Vec::new();
                for (k, v) in obj {
                    match v {
                        serde_json::Value::String(s) => values.push((k, s)),
                        serde_json::Value::Number(x) => values.push((k, x.to_string())),
                        serde_json::Value::Null => {}
                        other => errors.push(format!(
                            "line {n}: {k:?} is {}, not a string",
                            match other {
                                serde_json::Value::Array(_) => "a list",
                                serde_json::Value::Object(_) => "an object",
                                _ => "a boolean",
                            }
                        )),
                    }
                }
                rows.push((n, values));
            }
            Err(e) => errors.push(format!("line {n}: not a JSON object: {e}")),
        }
    }
    Ok((rows, errors))
}

fn build(
    rows: Vec<Row>,
    id_column: &str,
    maps: &HashMap<String, Target>,
    header: bool,
) -> Result<Directory, Vec<String>> {
    let id_key = normalize(id_column);
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut fields: BTreeSet<PersonField> = BTreeSet::new();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    let mut saw_id_column = rows.is_empty();
    for (line, values) in rows {
        let mut id = None;
        let mut cells: Vec<(Target, String)> = Vec::new();
        for (col, value) in values {
            let key = normalize(&col);
            if key == id_key {
                id = Some(value);
                saw_id_column = true;
                continue;
            }
            match maps.get(&key).copied().or_else(|| target_of(&col)) {
                Some(t) => {
                    if let Some(f) = t.field() {
                        fields.insert(f);
                    }
                    if !value.is_empty() {
                        cells.push((t, value));
                    }
                }
                None => {
                    if unknown.insert(col.clone()) {
                        // A CSV's columns are named on its header line.
                        let line = if header { 1 } else { line };
                        errors.push(format!(
                            "line {line}: unknown column {col:?}: map it with --map {col:?}=FIELD (known: {}, or ignore)",
                            EXPORT_COLUMNS.join(", ")
                        ));
                    }
                }
            }
        }
        let id = match id {
            Some(id) if !id.trim().is_empty() => id.trim().to_string(),
            Some(_) => {
                errors.push(format!("line {line}: the id column {id_column:?} is empty"));
                continue;
            }
            None => continue,
        };
        if let Some(first) = seen.get(&id) {
            errors.push(format!(
                "line {line}: id {id:?} appears again (first on line {first})"
            ));
            continue;
        }
        seen.insert(id.clone(), line);
        match person(&cells) {
            Ok(p) => records.push(Record::new(id, p)),
            Err(problems) => {
                errors.extend(problems.into_iter().map(|p| format!("line {line}: {p}")))
            }
        }
    }
    if !saw_id_column {
        errors.insert(
            0,
            format!("there is no id column {id_column:?} (--id-column)"),
        );
    }
    if errors.is_empty() && fields.is_empty() {
        errors.push("no column maps to a contact field".into());
    }
    if errors.is_empty() {
        Ok(Directory {
            records,
            fields: FieldMask::from_iter(fields),
        })
    } else {
        Err(errors)
    }
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>')
        && !domain.contains('@')
}

fn valid_phone(p: &str) -> bool {
    p.chars().filter(char::is_ascii_digit).count() >= 3
        && p.chars()
            .all(|c| c.is_ascii_digit() || " +-().x/".contains(c))
}

/// A list cell: values separated by `;`.
fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// The person a row's cells describe.
pub fn person(cells: &[(Target, String)]) -> Result<Person, Vec<String>> {
    use Target::*;
    let mut problems = Vec::new();
    let get = |t: Target| cells.iter().find(|(k, _)| *k == t).map(|(_, v)| v.as_str());
    let mut p = Person::new();
    let mut name = Name::new();
    let mut any_name = false;
    for (t, set) in [
        (GivenName, &mut name.given_name),
        (FamilyName, &mut name.family_name),
        (MiddleName, &mut name.middle_name),
        (Prefix, &mut name.honorific_prefix),
        (Suffix, &mut name.honorific_suffix),
    ] {
        if let Some(v) = get(t) {
            *set = Some(v.to_string());
            any_name = true;
        }
    }
    if any_name {
        p = p.set_names([name]);
    }
    let mut emails = Vec::new();
    if let Some(v) = get(Email) {
        for e in list(v) {
            if valid_email(e) {
                emails.push(EmailAddress::new().set_value(e).set_type("work"));
            } else {
                problems.push(format!("{e:?} is not an email address"));
            }
        }
    }
    if !emails.is_empty() {
        p = p.set_email_addresses(emails);
    }
    let mut phones = Vec::new();
    for (t, kind) in [(Phone, "work"), (Mobile, "mobile")] {
        if let Some(v) = get(t) {
            for n in list(v) {
                if valid_phone(n) {
                    phones.push(PhoneNumber::new().set_value(n).set_type(kind));
                } else {
                    problems.push(format!("{n:?} is not a phone number"));
                }
            }
        }
    }
    if !phones.is_empty() {
        p = p.set_phone_numbers(phones);
    }
    if get(Organization).is_some() || get(Title).is_some() || get(Department).is_some() {
        let mut o = google_people::Organization::new();
        o.name = get(Organization).map(str::to_owned);
        o.title = get(Title).map(str::to_owned);
        o.department = get(Department).map(str::to_owned);
        p = p.set_organizations([o.set_type("work")]);
    }
    if [Street, City, Region, PostalCode, Country]
        .iter()
        .any(|t| get(*t).is_some())
    {
        let mut a = Address::new();
        a.street_address = get(Street).map(str::to_owned);
        a.city = get(City).map(str::to_owned);
        a.region = get(Region).map(str::to_owned);
        a.postal_code = get(PostalCode).map(str::to_owned);
        match get(Country) {
            Some(c) if c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()) => {
                a.country_code = Some(c.to_ascii_uppercase());
            }
            Some(c) => a.country = Some(c.to_string()),
            None => {}
        }
        p = p.set_addresses([a.set_type("work")]);
    }
    if let Some(v) = get(Notes) {
        p = p.set_biographies([Biography::new().set_value(v)]);
    }
    if problems.is_empty() {
        Ok(p)
    } else {
        Err(problems)
    }
}

/// The cells of `gpeople export` for a person, in [`EXPORT_COLUMNS`] order: the inverse of
/// [`person`].
pub fn cells(p: &Person) -> Vec<String> {
    let name = p.names.as_ref().and_then(|n| n.first());
    let org = p.organizations.as_ref().and_then(|o| o.first());
    let addr = p.addresses.as_ref().and_then(|a| a.first());
    let s = |v: Option<&String>| v.cloned().unwrap_or_default();
    let join = |it: Vec<String>| it.join(";");
    let emails = join(
        p.email_addresses
            .iter()
            .flatten()
            .filter_map(|e| e.value.clone())
            .collect(),
    );
    let phones = |mobile: bool| {
        join(
            p.phone_numbers
                .iter()
                .flatten()
                .filter(|n| (n.r#type.as_deref() == Some("mobile")) == mobile)
                .filter_map(|n| n.value.clone())
                .collect(),
        )
    };
    vec![
        s(name.and_then(|n| n.given_name.as_ref())),
        s(name.and_then(|n| n.family_name.as_ref())),
        s(name.and_then(|n| n.middle_name.as_ref())),
        s(name.and_then(|n| n.honorific_prefix.as_ref())),
        s(name.and_then(|n| n.honorific_suffix.as_ref())),
        emails,
        phones(false),
        phones(true),
        s(org.and_then(|o| o.name.as_ref())),
        s(org.and_then(|o| o.title.as_ref())),
        s(org.and_then(|o| o.department.as_ref())),
        s(addr.and_then(|a| a.street_address.as_ref())),
        s(addr.and_then(|a| a.city.as_ref())),
        s(addr.and_then(|a| a.region.as_ref())),
        s(addr.and_then(|a| a.postal_code.as_ref())),
        s(addr.and_then(|a| a.country_code.as_ref().or(a.country.as_ref()))),
        s(p.biographies
            .as_ref()
            .and_then(|b| b.first())
            .and_then(|b| b.value.as_ref())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_cells_read_back_to_the_same_person() {
        let cells_in: Vec<(Target, String)> = [
            (Target::GivenName, "Ada"),
            (Target::FamilyName, "Lovelace"),
            (Target::Email, "ada@example.com;a@example.org"),
            (Target::Phone, "+1 555 0100"),
            (Target::Mobile, "+1 555 0101"),
            (Target::Organization, "Example"),
            (Target::Title, "Countess"),
            (Target::City, "London"),
            (Target::Country, "gb"),
            (Target::Notes, "First programmer"),
        ]
        .into_iter()
        .map(|(t, v)| (t, v.to_string()))
        .collect();
        let p = person(&cells_in).unwrap();
        let out = cells(&p);
        let back: Vec<(Target, String)> = EXPORT_COLUMNS
            .iter()
            .zip(out)
            .filter(|(_, v)| !v.is_empty())
            .map(|(c, v)| (target_of(c).unwrap(), v))
            .collect();
        assert_eq!(person(&back).unwrap(), p);
    }

    #[test]
    fn columns_are_matched_loosely() {
        assert_eq!(target_of("First Name"), Some(Target::GivenName));
        assert_eq!(target_of(" E-mail "), Some(Target::Email));
        assert_eq!(target_of("Job Title"), Some(Target::Title));
        assert_eq!(target_of("favourite colour"), None);
    }
}
