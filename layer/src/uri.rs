//! Percent-encoding rules for the request target the app receives.
//!
//! Owns: turning event paths and queries into a valid HTTP request target
//! without ever encoding twice.
//! Must not: know event formats (the event modules choose which rule applies).
//!
//! Event sources disagree about encoding: REST APIs, Function URLs and ALB
//! deliver the path still percent-encoded, HTTP APIs deliver it decoded. So
//! paths get one rule that works for both: bytes that may appear literally in
//! an encoded path are kept, a `%` that starts a valid escape is kept, and
//! everything else (spaces, non-ASCII, `?`, `#`, a bare `%`...) is encoded.
//! An encoded path passes unchanged; a decoded one becomes valid.

use std::borrow::Cow;

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 `unreserved`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` minus `%` (handled separately), plus `/`.
fn is_path_byte(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// RFC 3986 `query` characters minus `%`: `pchar`, `/` and `?`.
fn is_query_byte(b: u8) -> bool {
    is_path_byte(b) || b == b'?'
}

fn is_escape_at(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'%'
        && i + 2 < bytes.len()
        && bytes[i + 1].is_ascii_hexdigit()
        && bytes[i + 2].is_ascii_hexdigit()
}

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(UPPER_HEX[(b >> 4) as usize] as char);
    out.push(UPPER_HEX[(b & 15) as usize] as char);
}

/// Keeps bytes for which `keep` holds and valid `%XX` escapes; encodes the rest.
fn encode_keeping(text: &str, keep: fn(u8) -> bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let valid = |i: usize| keep(bytes[i]) || (bytes[i] == b'%' && is_escape_at(bytes, i));
    let Some(first_bad) = (0..bytes.len()).find(|&i| !valid(i)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first_bad]);
    for (i, &b) in bytes.iter().enumerate().skip(first_bad) {
        if valid(i) {
            out.push(b as char);
        } else {
            push_escaped(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// A path as the app should receive it: always starts with `/`, encoded once.
pub fn encode_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('/') {
        encode_keeping(path, is_path_byte)
    } else {
        Cow::Owned(format!("/{}", encode_keeping(path, is_path_byte)))
    }
}

/// A query string that arrived raw (HTTP API `rawQueryString`, ALB values):
/// kept byte for byte, except bytes that cannot appear in a request target.
pub fn encode_raw_query(query: &str) -> Cow<'_, str> {
    encode_keeping(query, is_query_byte)
}

/// Appends a decoded query key or value, percent-encoding everything but
/// unreserved characters (so `&`, `=`, `+` and `%` in the value survive).
pub fn push_query_component(out: &mut String, text: &str) {
    for &b in text.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            push_escaped(out, b);
        }
    }
}

/// Builds `k=v&k2=v2` from decoded pairs, in their order.
pub fn query_from_decoded<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        push_query_component(&mut out, key);
        out.push('=');
        push_query_component(&mut out, value);
    }
    out
}

/// Builds `k=v&k2=v2` from pairs that are already encoded (ALB), keeping them
/// as they are except for bytes that cannot appear in a request target.
pub fn query_from_encoded<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_raw_query(key));
        out.push('=');
        out.push_str(&encode_raw_query(value));
    }
    out
}

/// `host:port` for a request's `Host` header or an address in a message, with
/// an IPv6 host in brackets (`[::1]:8080`): the one formatter of the app's
/// authority.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Removes `base` from the front of `path` once, on a segment boundary.
/// `/prod` turns `/prod/x` into `/x` and `/prod` into `/`; `/prodx/y` and
/// paths that do not start with the base stay as they are.
pub fn strip_base_path<'p>(path: &'p str, base: &str) -> &'p str {
    match path.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_paths_pass_unchanged() {
        for path in [
            "/",
            "/users/42",
            "/a%20b/c%2Fd",
            "/files/%E2%82%AC.txt",
            "/x;y=1/@me:now",
            "/a+b",
        ] {
            assert!(matches!(encode_path(path), Cow::Borrowed(_)), "{path}");
        }
    }

    #[test]
    fn decoded_paths_are_encoded_once() {
        assert_eq!(encode_path("/my/path-with space"), "/my/path-with%20space");
        assert_eq!(encode_path("/files/€.txt"), "/files/%E2%82%AC.txt");
        assert_eq!(encode_path("/what?/now#"), "/what%3F/now%23");
        assert_eq!(encode_path("/100%/done"), "/100%25/done");
        assert_eq!(encode_path("/50%2"), "/50%252");
        assert_eq!(
            encode_path("/quote\"<>`{}|\\^"),
            "/quote%22%3C%3E%60%7B%7D%7C%5C%5E"
        );
        assert_eq!(encode_path("relative"), "/relative");
        assert_eq!(encode_path(""), "/");
        // Encoding the output again changes nothing: never twice.
        let once = encode_path("/a b/€/%zz").into_owned();
        assert_eq!(encode_path(&once), once);
    }

    #[test]
    fn raw_queries_are_kept_byte_for_byte_where_valid() {
        let raw = "parameter1=value1&parameter1=value2&b=%3FshowAll%3Dtrue&c=a+b&d=x/y?z";
        assert_eq!(encode_raw_query(raw), raw);
        assert_eq!(encode_raw_query("q=a b&r=é"), "q=a%20b&r=%C3%A9");
        assert_eq!(encode_raw_query("frag=#x&pct=5%"), "frag=%23x&pct=5%25");
    }

    #[test]
    fn decoded_pairs_are_encoded_once_in_order() {
        let q = query_from_decoded([("z", "1"), ("a", "x y"), ("z", "a&b=c"), ("name", "€+%")]);
        assert_eq!(q, "z=1&a=x%20y&z=a%26b%3Dc&name=%E2%82%AC%2B%25");
    }

    #[test]
    fn encoded_pairs_are_not_encoded_again() {
        let q = query_from_encoded([
            ("myKey", "val2"),
            ("myKey", "%3FshowAll%3Dtrue"),
            ("sp", "a b"),
        ]);
        assert_eq!(q, "myKey=val2&myKey=%3FshowAll%3Dtrue&sp=a%20b");
    }

    #[test]
    fn authorities_bracket_ipv6_hosts() {
        assert_eq!(authority("127.0.0.1", 8080), "127.0.0.1:8080");
        assert_eq!(authority("localhost", 3000), "localhost:3000");
        assert_eq!(authority("::1", 8080), "[::1]:8080");
        assert_eq!(authority("[::1]", 8080), "[::1]:8080");
        assert_eq!(authority("fe80::1%eth0", 80), "[fe80::1%eth0]:80");
    }

    #[test]
    fn base_path_is_removed_once_on_a_segment_boundary() {
        assert_eq!(strip_base_path("/prod/x", "/prod"), "/x");
        assert_eq!(strip_base_path("/prod", "/prod"), "/");
        assert_eq!(strip_base_path("/prod/", "/prod"), "/");
        assert_eq!(strip_base_path("/prodx/y", "/prod"), "/prodx/y");
        assert_eq!(strip_base_path("/prod/prod/x", "/prod"), "/prod/x");
        assert_eq!(strip_base_path("/other/prod/x", "/prod"), "/other/prod/x");
    }
}
