//! Choosing the route a request takes, as API Gateway does:
//!
//! * HTTP APIs ("Working with routes for HTTP APIs", routing API
//!   requests): the most specific match of method and path wins (a route
//!   with a greedy `{proxy+}` variable only when nothing else matches, the
//!   `$default` route last); a method beats `ANY`. No match:
//!   `404 {"message":"Not Found"}`.
//! * REST APIs: the most specific resource path is chosen first (a literal
//!   segment over `{param}` over `{proxy+}`), then its method, else its
//!   `ANY`; a resource without either answers
//!   `403 {"message":"Missing Authentication Token"}`, as a path no
//!   resource matches does.
//!
//! Path variables are percent-decoded; `{proxy+}` takes the rest of the
//! path (one segment or more).
//!
//! Owns: path templates, specificity, selection.
//! Must not: know events, functions or sockets.

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// A route path such as `/users/{id}` or `/{proxy+}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

fn split(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Template {
    /// Parses a route path.
    pub fn parse(path: &str) -> Template {
        let segments = split(path)
            .into_iter()
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_string()),
                        None => Segment::Param(name.to_string()),
                    },
                    None => Segment::Literal(s.to_string()),
                },
            )
            .collect();
        Template { segments }
    }

    /// The path variables when `path` (as requested, encoded) matches.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let parts = split(path);
        let mut params = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i).map(|p| decode(p)) != Some(l.clone()) {
                        return None;
                    }
                }
                Segment::Param(name) => params.push((name.clone(), decode(parts.get(i)?))),
                Segment::Greedy(name) => {
                    if parts.len() <= i {
                        return None;
                    }
                    params.push((name.clone(), decode(&parts[i..].join("/"))));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Sorts before a less specific template: per segment, a literal before
    /// a variable before a greedy variable; then the longer one.
    fn rank(&self) -> Vec<u8> {
        let mut r: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Greedy(_) => 2,
            })
            .collect();
        r.push(3);
        r
    }

    fn greedy(&self) -> bool {
        matches!(self.segments.last(), Some(Segment::Greedy(_)))
    }
}

/// A route chosen for a request: its index and path variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The index of the route in the list given.
    pub index: usize,
    /// Path variables, in template order.
    pub params: Vec<(String, String)>,
}

/// Splits an HTTP API route key into method and path (`None` for
/// `$default`).
pub fn http_key(key: &str) -> Option<(String, String)> {
    let (method, path) = key.trim().split_once(' ')?;
    Some((method.to_ascii_uppercase(), path.trim().to_string()))
}

/// An HTTP API route that matches, with what ranks it: the lower
/// [`Candidate::order`], the better.
struct Candidate {
    /// Its path ends in a greedy `{proxy+}`.
    greedy: bool,
    /// How specific its path is (`Template::rank`).
    rank: Vec<u8>,
    /// Its method is `ANY`.
    any_method: bool,
    chosen: Chosen,
}

impl Candidate {
    /// Exact paths before greedy ones, then the most specific path, then a
    /// named method before `ANY`.
    fn order(&self) -> (bool, &[u8], bool) {
        (self.greedy, &self.rank, self.any_method)
    }
}

/// The HTTP API route (by key) that `method path` takes.
pub fn select_http(keys: &[String], method: &str, path: &str) -> Option<Chosen> {
    let mut best: Option<Candidate> = None;
    for (index, key) in keys.iter().enumerate() {
        let Some((m, p)) = http_key(key) else {
            continue;
        };
        if m != "ANY" && !m.eq_ignore_ascii_case(method) {
            continue;
        }
        let t = Template::parse(&p);
        let Some(params) = t.matches(path) else {
            continue;
        };
        let candidate = Candidate {
            greedy: t.greedy(),
            rank: t.rank(),
            any_method: m == "ANY",
            chosen: Chosen { index, params },
        };
        let better = match &best {
            None => true,
            Some(b) => candidate.order() < b.order(),
        };
        if better {
            best = Some(candidate);
        }
    }
    best.map(|b| b.chosen).or_else(|| {
        keys.iter()
            .position(|k| k.trim() == "$default")
            .map(|index| Chosen {
                index,
                params: Vec::new(),
            })
    })
}

/// The REST API method (by resource path and method) that `method path`
/// takes; `None` answers 403 Missing Authentication Token.
pub fn select_rest(routes: &[(String, String)], method: &str, path: &str) -> Option<Chosen> {
    // The most specific resource whose path matches...
    let mut best: Option<(Vec<u8>, &str)> = None;
    for (p, _) in routes {
        let t = Template::parse(p);
        let more_specific = || best.as_ref().is_none_or(|(rank, _)| t.rank() < *rank);
        if t.matches(path).is_some() && more_specific() {
            best = Some((t.rank(), p.as_str()));
        }
    }
    let (_, resource) = best?;
    let params = Template::parse(resource).matches(path)?;
    // ...then its method, else its ANY.
    let on = |m: &str| {
        routes
            .iter()
            .position(|(p, rm)| *p == resource && rm.eq_ignore_ascii_case(m))
    };
    let index = on(method).or_else(|| on("ANY"))?;
    Some(Chosen { index, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn chosen(
        keys: &[String],
        method: &str,
        path: &str,
    ) -> Option<(String, Vec<(String, String)>)> {
        select_http(keys, method, path).map(|c| (keys[c.index].clone(), c.params))
    }

    #[test]
    fn http_api_routes_as_the_developer_guide_orders_them() {
        // The guide's example: GET /pets/dog/1 matches GET /pets/dog/{id}
        // before GET /pets/{proxy+}, and $default only when nothing else does.
        let k = keys(&[
            "ANY /{proxy+}",
            "GET /pets/{proxy+}",
            "GET /pets/dog/{id}",
            "$default",
            "GET /pets/dog/1",
        ]);
        assert_eq!(
            chosen(&k, "GET", "/pets/dog/1").expect("route").0,
            "GET /pets/dog/1"
        );
        let (key, params) = chosen(&k, "GET", "/pets/dog/2").expect("route");
        assert_eq!(
            (key.as_str(), params),
            ("GET /pets/dog/{id}", vec![("id".into(), "2".into())])
        );
        let (key, params) = chosen(&k, "GET", "/pets/cat/a%20b").expect("route");
        assert_eq!(
            (key.as_str(), params),
            (
                "GET /pets/{proxy+}",
                vec![("proxy".into(), "cat/a b".into())]
            )
        );
        assert_eq!(
            chosen(&k, "POST", "/pets/dog/1").expect("route").0,
            "ANY /{proxy+}"
        );
        assert_eq!(
            chosen(&k, "GET", "/").expect("route").0,
            "$default",
            "a greedy variable needs a segment"
        );
        let no_default = keys(&["GET /users", "GET /users/{id}"]);
        assert_eq!(chosen(&no_default, "GET", "/nope"), None);
        assert_eq!(chosen(&no_default, "GET", "/users/7/x"), None);
        let k = keys(&["ANY /users", "GET /users"]);
        assert_eq!(
            chosen(&k, "GET", "/users").expect("route").0,
            "GET /users",
            "a method beats ANY"
        );
        assert_eq!(
            chosen(&k, "DELETE", "/users").expect("route").0,
            "ANY /users"
        );
    }

    #[test]
    fn rest_api_resource_first_then_method() {
        let routes: Vec<(String, String)> = [
            ("/", "ANY"),
            ("/{proxy+}", "ANY"),
            ("/users", "GET"),
            ("/users/{id}", "GET"),
        ]
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
        let pick = |m: &str, p: &str| {
            select_rest(&routes, m, p).map(|c| (routes[c.index].0.clone(), c.params))
        };
        assert_eq!(pick("GET", "/").expect("root").0, "/");
        assert_eq!(pick("GET", "/users").expect("users").0, "/users");
        assert_eq!(
            pick("GET", "/users/42").expect("user").1,
            vec![("id".to_string(), "42".to_string())]
        );
        // The resource /users is chosen, and it has no POST or ANY: 403.
        assert_eq!(pick("POST", "/users"), None);
        assert_eq!(
            pick("GET", "/a/b").expect("proxy").1,
            vec![("proxy".to_string(), "a/b".to_string())]
        );
        let only: Vec<(String, String)> = vec![("/users".into(), "GET".into())];
        assert_eq!(select_rest(&only, "GET", "/other"), None);
    }
}
