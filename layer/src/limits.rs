//! Every limit the adapter enforces on what it carries, in one place: its
//! value, where the value comes from, and what a user sees past it.
//!
//! Owns: the values and their reasons ([`Limit`]); the guide's table of
//! limits is held to [`Limit::ALL`] by a test.
//! Must not: enforce anything (the code at each edge does, naming the
//! [`Limit`] in its error), or know event formats.
//!
//! The rule for every limit: an input within it is carried exactly; an input
//! past it fails that one invocation with a typed error that names the limit
//! (`Portside.RequestTooLarge`, `Portside.ResponseTooLarge`,
//! `Portside.AppInvalidResponse`), never a request turned into another or a
//! body cut short. A limit that is portside's own choice is at least as
//! generous as the AWS front door that feeds it; the others are inherited
//! from the HTTP types every Rust HTTP stack shares (`http`'s `Uri`).

use std::fmt;

/// A limit on what the adapter carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Bytes of an event payload read from `/next`.
    Event,
    /// Bytes of the request target (path and query) the app receives.
    RequestTarget,
    /// Header lines the event gives the app's request.
    RequestHeaderLines,
    /// Bytes of the app's response head (status line and headers).
    ResponseHead,
    /// Header lines in the app's response head.
    ResponseHeaderLines,
    /// Bytes of a buffered result (the JSON posted to `/response`).
    BufferedResult,
    /// Bytes of a readiness answer's status line.
    ReadinessStatusLine,
    /// Bytes of a readiness answer read to reuse its connection.
    ReadinessAnswer,
}

impl Limit {
    /// Every limit, in the order of an invocation.
    pub const ALL: [Limit; 8] = [
        Limit::Event,
        Limit::RequestTarget,
        Limit::RequestHeaderLines,
        Limit::ResponseHead,
        Limit::ResponseHeaderLines,
        Limit::BufferedResult,
        Limit::ReadinessStatusLine,
        Limit::ReadinessAnswer,
    ];

    /// The largest value carried (bytes, or lines).
    pub const fn max(self) -> usize {
        match self {
            Limit::Event => 64 * 1024 * 1024,
            Limit::RequestTarget => 65_534,
            Limit::RequestHeaderLines => 16_384,
            Limit::ResponseHead => 60 * 1024,
            Limit::ResponseHeaderLines => 8_192,
            Limit::BufferedResult => 6_291_556,
            Limit::ReadinessStatusLine => 8 * 1024,
            Limit::ReadinessAnswer => 64 * 1024,
        }
    }

    /// What is counted, for messages (`"the request target"`).
    pub const fn what(self) -> &'static str {
        match self {
            Limit::Event => "the event",
            Limit::RequestTarget => "the request target (path and query)",
            Limit::RequestHeaderLines => "the request's header lines",
            Limit::ResponseHead => "the app's response head (status line and headers)",
            Limit::ResponseHeaderLines => "the app's response header lines",
            Limit::BufferedResult => "the buffered result",
            Limit::ReadinessStatusLine => "the readiness answer's status line",
            Limit::ReadinessAnswer => "the readiness answer",
        }
    }

    /// The unit of [`Limit::max`].
    pub const fn unit(self) -> &'static str {
        match self {
            Limit::RequestHeaderLines | Limit::ResponseHeaderLines => "lines",
            _ => "bytes",
        }
    }

    /// Where the value comes from.
    pub const fn source(self) -> &'static str {
        match self {
            Limit::Event => {
                "portside's own: ten times Lambda's largest event (6 MB, a synchronous \
                 invocation), so an emulator's larger test events still fit"
            }
            Limit::RequestTarget => {
                "inherited: the most `http`'s Uri holds (u16::MAX - 1); every AWS front \
                 door sends far less (HTTP and REST APIs: 10,240 bytes of request line and \
                 headers; ALB: a 16 KiB request line)"
            }
            Limit::RequestHeaderLines => {
                "portside's own: ALB's largest request header block (64 KiB) holds at most \
                 16,384 lines of 4 bytes (`a:` CRLF); `http`'s HeaderMap holds 24,576 names, \
                 leaving room for the headers the adapter adds"
            }
            Limit::ResponseHead => {
                "portside's own: the size of each read from the app; ALB accepts 32 KiB of \
                 response headers, Node's HTTP server writes at most 16 KiB by default"
            }
            Limit::ResponseHeaderLines => {
                "portside's own: ALB's largest response header block (32 KiB) holds at most \
                 8,192 lines of 4 bytes; hyper's default is 100"
            }
            Limit::BufferedResult => {
                "Lambda's: its Runtime API refuses a larger result (\"Response payload size \
                 exceeded maximum allowed payload size (6291556 bytes)\")"
            }
            Limit::ReadinessStatusLine => {
                "portside's own: a readiness answer whose first line is longer is not HTTP"
            }
            Limit::ReadinessAnswer => {
                "portside's own: the rest of a readiness answer is read to reuse its \
                 connection for the first invocation; a longer one's connection is closed"
            }
        }
    }

    /// What happens past the limit.
    pub const fn past(self) -> &'static str {
        match self {
            Limit::Event => "the invocation fails with Portside.RequestTooLarge",
            Limit::RequestTarget | Limit::RequestHeaderLines => {
                "the invocation fails with Portside.RequestTooLarge; nothing is sent to the app"
            }
            Limit::ResponseHead | Limit::ResponseHeaderLines => {
                "the invocation fails with Portside.AppInvalidResponse"
            }
            Limit::BufferedResult => "the invocation fails with Portside.ResponseTooLarge",
            Limit::ReadinessStatusLine => {
                "that readiness attempt fails (not HTTP) and the check goes on"
            }
            Limit::ReadinessAnswer => "nothing fails: the first invocation opens a new connection",
        }
    }
}

impl fmt::Display for Limit {
    /// `61,440 bytes (60 KiB)`, `8,192 lines`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.max();
        write!(f, "{} {}", group_thousands(max), self.unit())?;
        match max {
            _ if self.unit() != "bytes" => Ok(()),
            m if m >= 1 << 20 && m.is_multiple_of(1 << 20) => write!(f, " ({} MiB)", m >> 20),
            m if m >= 1 << 10 && m.is_multiple_of(1 << 10) => write!(f, " ({} KiB)", m >> 10),
            _ => Ok(()),
        }
    }
}

/// The guide's table of the adapter's limits (docs/src/limits.md holds
/// exactly this, between its `adapter-limits` markers; a test checks).
#[cfg(test)]
pub fn markdown_table() -> String {
    let mut table = String::from("| what | limit | where it comes from | past it |\n");
    table.push_str("| --- | --- | --- | --- |\n");
    for limit in Limit::ALL {
        table.push_str(&format!(
            "| {} | {limit} | {} | {} |\n",
            limit.what(),
            limit.source(),
            limit.past()
        ));
    }
    table
}

/// `65534` as `65,534`.
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(65_534), "65,534");
        assert_eq!(group_thousands(6_291_556), "6,291,556");
    }

    #[test]
    fn limits_say_their_value_and_unit() {
        assert_eq!(Limit::ResponseHead.to_string(), "61,440 bytes (60 KiB)");
        assert_eq!(Limit::Event.to_string(), "67,108,864 bytes (64 MiB)");
        assert_eq!(Limit::BufferedResult.to_string(), "6,291,556 bytes");
        assert_eq!(Limit::RequestHeaderLines.to_string(), "16,384 lines");
    }

    #[test]
    fn the_guide_lists_every_limit_as_the_code_has_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/limits.md");
        let guide = std::fs::read_to_string(path).expect("docs/src/limits.md");
        let start = "<!-- adapter-limits: begin (portside::limits::markdown_table) -->\n";
        let end = "<!-- adapter-limits: end -->";
        let table = guide
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table)
            .unwrap_or_else(|| {
                panic!(
                    "no markers in {path}; put in:\n{start}{}{end}",
                    markdown_table()
                )
            });
        let want = markdown_table();
        assert!(
            table == want,
            "docs/src/limits.md is out of date; between its markers goes:\n{want}"
        );
    }

    #[test]
    fn the_request_target_limit_is_https_uri() {
        let longest = format!("/{}", "a".repeat(Limit::RequestTarget.max() - 1));
        assert!(longest.parse::<http::Uri>().is_ok());
        let longer = format!("{longest}a");
        assert!(longer.parse::<http::Uri>().is_err());
    }

    #[test]
    fn the_header_line_limit_leaves_room_in_http_s_header_map() {
        // Distinct names: the worst case for the map.
        let mut map = http::HeaderMap::new();
        for i in 0..Limit::RequestHeaderLines.max() + 64 {
            let name = http::HeaderName::from_bytes(format!("h{i}").as_bytes()).unwrap();
            map.try_append(name, http::HeaderValue::from_static("v"))
                .expect("the map holds the limit and the adapter's own headers");
        }
    }
}
