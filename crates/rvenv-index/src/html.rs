//! A small, forgiving HTML tag reader: enough for index and find-links pages (anchors and
//! `<base>`), with attribute values unescaped. Not a general HTML parser.

use std::borrow::Cow;
#[cfg(test)]
use std::collections::HashMap;

/// A start tag with its attributes (names lower-cased, values unescaped; a bare attribute has
/// an empty value).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub attributes: HashMap<String, String>,
}

/// One attribute as read: the name as written, the value unescaped (borrowed when it holds no
/// character reference).
pub type Attribute<'a> = (&'a str, Cow<'a, str>);

/// The value of the first attribute named `name` (ASCII case-insensitive).
pub fn attribute<'b>(attributes: &'b [Attribute<'_>], name: &str) -> Option<&'b str> {
    attributes
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_ref())
}

/// The start tags named in `wanted` (lower case), in document order. Comments are skipped.
#[cfg(test)]
pub fn parse_tags(html: &str, wanted: &[&str]) -> Vec<Tag> {
    let mut tags = Vec::new();
    for_each_tag(html, wanted, |name, attributes| {
        let mut map = HashMap::new();
        for (key, value) in attributes {
            map.entry(key.to_ascii_lowercase())
                .or_insert_with(|| value.to_string());
        }
        tags.push(Tag {
            name: name.to_string(),
            attributes: map,
        });
    });
    tags
}

/// Calls `visit` with the name (lower case) and attributes of every start tag named in `wanted`,
/// in document order, without building a map per tag: index pages have tens of thousands.
pub fn for_each_tag<'a>(
    html: &'a str,
    wanted: &[&str],
    mut visit: impl FnMut(&str, &[Attribute<'a>]),
) {
    let bytes = html.as_bytes();
    let mut attributes = Vec::new();
    let mut pos = 0;
    while let Some(offset) = html[pos..].find('<') {
        pos += offset + 1;
        if html[pos..].starts_with("!--") {
            pos = match html[pos + 3..].find("-->") {
                Some(end) => pos + 3 + end + 3,
                None => html.len(),
            };
            continue;
        }
        let name_end = html[pos..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(html.len(), |end| pos + end);
        let name = &html[pos..name_end];
        pos = name_end;
        let Some(wanted_name) = wanted
            .iter()
            .find(|wanted| !name.is_empty() && wanted.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        attributes.clear();
        pos = parse_attributes(html, pos, &mut attributes);
        visit(wanted_name, &attributes);
        if pos >= bytes.len() {
            break;
        }
    }
}

/// Reads attributes from `pos` up to the closing `>` into `attributes`; returns the position
/// after it.
fn parse_attributes<'a>(
    html: &'a str,
    mut pos: usize,
    attributes: &mut Vec<Attribute<'a>>,
) -> usize {
    let bytes = html.as_bytes();
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'/') {
            pos += 1;
        }
        if pos >= bytes.len() {
            return pos;
        }
        if bytes[pos] == b'>' {
            return pos + 1;
        }
        let name_start = pos;
        while pos < bytes.len()
            && !bytes[pos].is_ascii_whitespace()
            && !matches!(bytes[pos], b'=' | b'>' | b'/')
        {
            pos += 1;
        }
        let name = &html[name_start..pos];
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let mut value = Cow::Borrowed("");
        if pos < bytes.len() && bytes[pos] == b'=' {
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if pos < bytes.len() && matches!(bytes[pos], b'"' | b'\'') {
                let quote = bytes[pos] as char;
                let start = pos + 1;
                let end = html[start..].find(quote).map_or(html.len(), |e| start + e);
                value = unescape_cow(&html[start..end]);
                pos = (end + 1).min(html.len());
            } else {
                let start = pos;
                while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() && bytes[pos] != b'>' {
                    pos += 1;
                }
                value = unescape_cow(&html[start..pos]);
            }
        }
        if !name.is_empty() {
            attributes.push((name, value));
        }
    }
}

fn unescape_cow(text: &str) -> Cow<'_, str> {
    if text.contains('&') {
        Cow::Owned(unescape(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// Replaces character references: the five named XML ones, `&nbsp;`, and numeric ones.
/// Unknown references are left as they are.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let code = if let Some(hex) = entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(decimal) = entity.strip_prefix('#') {
                        decimal.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes() {
        assert_eq!(unescape("&gt;=3.8, &lt;4"), ">=3.8, <4");
        assert_eq!(unescape("a&#39;b&#x27;c&amp;amp;"), "a'b'c&amp;");
        assert_eq!(unescape("AT&T &bogus; & x"), "AT&T &bogus; & x");
    }

    #[test]
    fn attribute_forms() {
        let tags = parse_tags(
            "<p><a  HREF = \"x\" data-yanked class=y  title='q\"r'/>t</a><abbr href=z>",
            &["a"],
        );
        assert_eq!(tags.len(), 1);
        let a = &tags[0].attributes;
        assert_eq!(a["href"], "x");
        assert_eq!(a["data-yanked"], "");
        assert_eq!(a["class"], "y");
        assert_eq!(a["title"], "q\"r");
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        assert_eq!(parse_tags("<a href=\"x", &["a"]).len(), 1);
        assert!(parse_tags("<", &["a"]).is_empty());
        assert!(parse_tags("<!-- never closed <a href=x>", &["a"]).is_empty());
        assert_eq!(
            parse_tags("<a href=é>ü</a>", &["a"])[0].attributes["href"],
            "é"
        );
    }
}
