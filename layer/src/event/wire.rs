//! Lenient JSON building blocks for reading events.
//!
//! Owns: serde types that accept a field of any JSON type and remember what
//! they found, so one parse of the payload serves both detection (which must
//! never fail: unknown JSON is passed through) and conversion (which reports
//! a field of the wrong type by name).
//! Must not: know which event source uses which field.
//!
//! Strings borrow from the payload when they hold no escapes, so a base64
//! body is never copied before it is decoded. Maps keep the event's order and
//! every duplicate, which `serde_json::Value` would not.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What a JSON value was, for error messages.
fn kind_of_unexpected(unexpected: de::Unexpected<'_>) -> &'static str {
    match unexpected {
        de::Unexpected::Bool(_) => "a boolean",
        de::Unexpected::Unsigned(_) | de::Unexpected::Signed(_) | de::Unexpected::Float(_) => {
            "a number"
        }
        de::Unexpected::Str(_) => "a string",
        de::Unexpected::Seq => "an array",
        de::Unexpected::Map => "an object",
        de::Unexpected::Unit => "null",
        _ => "an unexpected value",
    }
}

/// A field that should be a string; anything else is remembered as the wrong
/// kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text<'a> {
    /// A string (or a scalar written as one).
    Str(Cow<'a, str>),
    /// Some other JSON type, named for the error message.
    Wrong(&'static str),
}

impl<'a> Text<'a> {
    /// The string, or an error message naming `field`.
    pub fn require(&self, field: &str) -> Result<&str, String> {
        match self {
            Text::Str(s) => Ok(s),
            Text::Wrong(kind) => Err(format!("`{field}` must be a string, not {kind}")),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            Text::Wrong(_) => None,
        }
    }
}

/// Reads a string; with `scalars`, numbers and booleans count as their JSON
/// text too (a hand-written `"limit": 10` in a query map means `10`).
struct TextVisitor<'a> {
    scalars: bool,
    lifetime: PhantomData<&'a ()>,
}

impl<'a> TextVisitor<'a> {
    fn scalar(self, text: String, kind: &'static str) -> Text<'a> {
        if self.scalars {
            Text::Str(Cow::Owned(text))
        } else {
            Text::Wrong(kind)
        }
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.scalar(v.to_string(), "a boolean"))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.to_string(), "a number"))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.to_string(), "a number"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.to_string(), "a number"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Text::Wrong("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text::Wrong(kind_of_unexpected(de::Unexpected::Seq)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text::Wrong(kind_of_unexpected(de::Unexpected::Map)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor {
            scalars: false,
            lifetime: PhantomData,
        })
    }
}

/// A value in a map of strings, where a number or boolean counts as its text.
struct ScalarText<'a>(Text<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for ScalarText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(TextVisitor {
                scalars: true,
                lifetime: PhantomData,
            })
            .map(ScalarText)
    }
}

/// A field that should be a boolean. `"true"`/`"false"` strings are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// The value.
    Bool(bool),
    /// Some other JSON type.
    Wrong(&'static str),
}

impl Flag {
    /// The boolean, or an error message naming `field`.
    pub fn require(self, field: &str) -> Result<bool, String> {
        match self {
            Flag::Bool(b) => Ok(b),
            Flag::Wrong(kind) => Err(format!("`{field}` must be true or false, not {kind}")),
        }
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match ScalarText::deserialize(deserializer)?.0 {
            Text::Str(s) if s.eq_ignore_ascii_case("true") => Flag::Bool(true),
            Text::Str(s) if s.eq_ignore_ascii_case("false") => Flag::Bool(false),
            Text::Str(_) => Flag::Wrong("a string other than true or false"),
            Text::Wrong(kind) => Flag::Wrong(kind),
        })
    }
}

/// One `(name, value)` of a [`Pairs`] map.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A JSON object read as ordered `(name, value)` pairs. A value that is a list
/// gives one pair per element (multi-value maps); a `null` value gives none.
/// The first value of another type is remembered as a problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<'a> {
    /// The pairs, in the event's order.
    pub entries: Vec<Pair<'a>>,
    /// Set when the field was not an object of strings or string lists.
    pub problem: Option<String>,
}

impl<'a> Pairs<'a> {
    /// The pairs, or an error message naming `field`.
    pub fn require(&self, field: &str) -> Result<&[Pair<'a>], String> {
        match &self.problem {
            None => Ok(&self.entries),
            Some(problem) => Err(format!("`{field}` {problem}")),
        }
    }
}

/// One value of a pairs map: a string or a list of strings.
struct PairValue<'a, 'p> {
    name: Cow<'a, str>,
    pairs: &'p mut Pairs<'a>,
}

impl<'de: 'a, 'a, 'p> DeserializeSeed<'de> for PairValue<'a, 'p> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a, 'p> Visitor<'de> for PairValue<'a, 'p> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(ScalarText(item)) = seq.next_element::<ScalarText<'a>>()? {
            match item {
                Text::Str(value) => self.pairs.entries.push((self.name.clone(), value)),
                Text::Wrong("null") => {}
                Text::Wrong(kind) => {
                    if self.pairs.problem.is_none() {
                        self.pairs.problem =
                            Some(format!("has {kind} in the list for {:?}", self.name));
                    }
                }
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        if self.pairs.problem.is_none() {
            self.pairs.problem = Some(format!("has an object as the value of {:?}", self.name));
        }
        Ok(())
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.pairs.entries.push((self.name, Cow::Borrowed(v)));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.pairs
            .entries
            .push((self.name, Cow::Owned(v.to_owned())));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.pairs.entries.push((self.name, Cow::Owned(v)));
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.pairs
            .entries
            .push((self.name, Cow::Owned(v.to_string())));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.pairs
            .entries
            .push((self.name, Cow::Owned(v.to_string())));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.pairs
            .entries
            .push((self.name, Cow::Owned(v.to_string())));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.pairs
            .entries
            .push((self.name, Cow::Owned(v.to_string())));
        Ok(())
    }
}

struct PairsVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for PairsVisitor<'a> {
    type Value = Pairs<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'a>, A::Error> {
        let mut pairs = Pairs::default();
        while let Some(key) = map.next_key::<Text<'a>>()? {
            // JSON object keys are always strings.
            let name = match key {
                Text::Str(name) => name,
                Text::Wrong(_) => Cow::Borrowed(""),
            };
            map.next_value_seed(PairValue {
                name,
                pairs: &mut pairs,
            })?;
        }
        Ok(pairs)
    }
    fn visit_unit<E>(self) -> Result<Pairs<'a>, E> {
        Ok(Pairs::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pairs<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(wrong_pairs("an array"))
    }
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a string"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Pairs<'a>, E> {
        Ok(wrong_pairs("a number"))
    }
}

fn wrong_pairs<'a>(kind: &str) -> Pairs<'a> {
    Pairs {
        entries: Vec::new(),
        problem: Some(format!("must be an object of strings, not {kind}")),
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PairsVisitor(PhantomData))
    }
}

/// A field that should be a list of strings (the v2 `cookies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList<'a> {
    /// The strings, in order.
    pub items: Vec<Cow<'a, str>>,
    /// Set when the field was not a list of strings.
    pub problem: Option<&'static str>,
}

impl<'a> TextList<'a> {
    /// The strings, or an error message naming `field`.
    pub fn require(&self, field: &str) -> Result<&[Cow<'a, str>], String> {
        match self.problem {
            None => Ok(&self.items),
            Some(problem) => Err(format!(
                "`{field}` must be a list of strings; it holds {problem}"
            )),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for TextList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ListVisitor<'a> {
            type Value = TextList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextList<'a>, A::Error> {
                let mut list = TextList::default();
                while let Some(item) = seq.next_element::<Text<'a>>()? {
                    match item {
                        Text::Str(s) => list.items.push(s),
                        Text::Wrong(kind) => {
                            list.problem.get_or_insert(kind);
                        }
                    }
                }
                Ok(list)
            }
            fn visit_unit<E>(self) -> Result<TextList<'a>, E> {
                Ok(TextList::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextList<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("an object"),
                })
            }
            fn visit_str<E>(self, _: &str) -> Result<TextList<'a>, E> {
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("a string"),
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<TextList<'a>, E> {
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("a boolean"),
                })
            }
            fn visit_i64<E>(self, _: i64) -> Result<TextList<'a>, E> {
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("a number"),
                })
            }
            fn visit_u64<E>(self, _: u64) -> Result<TextList<'a>, E> {
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("a number"),
                })
            }
            fn visit_f64<E>(self, _: f64) -> Result<TextList<'a>, E> {
                Ok(TextList {
                    items: Vec::new(),
                    problem: Some("a number"),
                })
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// A value that should be a JSON object holding `T`'s fields; anything else
/// is consumed and remembered as not being one. `T`'s fields should all be
/// lenient so that reading an object never fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obj<T> {
    /// An object, read as `T`.
    Value(T),
    /// Not an object.
    NotAnObject,
}

impl<T> Obj<T> {
    /// The object's fields, if it was one.
    pub fn get(&self) -> Option<&T> {
        match self {
            Obj::Value(v) => Some(v),
            Obj::NotAnObject => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj::Value)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Obj<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Obj::NotAnObject)
            }
            fn visit_unit<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
                Ok(Obj::NotAnObject)
            }
        }
        deserializer.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// The first element of an array, read as `T`; the rest are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum First<T> {
    /// The first element.
    Item(T),
    /// An empty array, or not an array at all.
    Nothing,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element::<T>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(first.map_or(First::Nothing, First::Item))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<First<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(First::Nothing)
            }
            fn visit_unit<E>(self) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
            fn visit_str<E>(self, _: &str) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
            fn visit_bool<E>(self, _: bool) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
            fn visit_i64<E>(self, _: i64) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
            fn visit_u64<E>(self, _: u64) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
            fn visit_f64<E>(self, _: f64) -> Result<First<T>, E> {
                Ok(First::Nothing)
            }
        }
        deserializer.deserialize_any(FirstVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Sample<'a> {
        #[serde(borrow)]
        text: Option<Text<'a>>,
        flag: Option<Flag>,
        #[serde(borrow)]
        pairs: Option<Pairs<'a>>,
        #[serde(borrow)]
        list: Option<TextList<'a>>,
        obj: Option<Obj<Inner>>,
        first: Option<First<Obj<Inner>>>,
    }

    #[derive(Deserialize, Debug, PartialEq, Eq)]
    struct Inner {
        name: Option<String>,
    }

    fn parse(json: &str) -> Sample<'_> {
        serde_json::from_str(json).expect("lenient parse never fails on valid JSON")
    }

    #[test]
    fn strings_borrow_and_other_types_are_named() {
        let s = parse(r#"{"text": "abc"}"#);
        assert!(matches!(s.text, Some(Text::Str(Cow::Borrowed("abc")))));
        let s = parse(r#"{"text": "a\"b"}"#);
        assert_eq!(s.text.unwrap().as_str(), Some("a\"b"));
        let s = parse(r#"{"text": 10}"#);
        assert_eq!(s.text.unwrap(), Text::Wrong("a number"));
        let s = parse(r#"{"text": {"x": [1,2]}}"#);
        assert_eq!(
            s.text.unwrap().require("text").unwrap_err(),
            "`text` must be a string, not an object"
        );
        let s = parse(r#"{"text": null}"#);
        assert!(s.text.is_none(), "null is absent");
    }

    #[test]
    fn flags_accept_booleans_and_their_names() {
        assert_eq!(parse(r#"{"flag": true}"#).flag, Some(Flag::Bool(true)));
        assert_eq!(parse(r#"{"flag": "False"}"#).flag, Some(Flag::Bool(false)));
        assert!(parse(r#"{"flag": 1}"#)
            .flag
            .unwrap()
            .require("flag")
            .is_err());
        assert!(parse(r#"{"flag": [true]}"#)
            .flag
            .unwrap()
            .require("flag")
            .is_err());
    }

    #[test]
    fn pairs_keep_order_duplicates_and_every_list_value() {
        let s = parse(r#"{"pairs": {"b": "1", "a": ["2", "3"], "b": "4", "n": null, "c": 5}}"#);
        let pairs = s.pairs.unwrap();
        let got: Vec<(&str, &str)> = pairs
            .entries
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(
            got,
            [("b", "1"), ("a", "2"), ("a", "3"), ("b", "4"), ("c", "5")]
        );
        assert!(pairs.problem.is_none());
    }

    #[test]
    fn pairs_report_the_first_wrong_value() {
        let pairs = parse(r#"{"pairs": {"a": {"deep": 1}, "b": "ok"}}"#)
            .pairs
            .unwrap();
        let err = pairs.require("headers").unwrap_err();
        assert!(err.contains("headers") && err.contains("\"a\""), "{err}");
        let pairs = parse(r#"{"pairs": "nope"}"#).pairs.unwrap();
        assert!(pairs
            .require("headers")
            .unwrap_err()
            .contains("not a string"));
    }

    #[test]
    fn lists_objects_and_first_elements() {
        let s = parse(
            r#"{"list": ["a=1", "b=2"], "obj": {"name": "x", "other": [1]}, "first": [{"name": "y"}, 3, "z"]}"#,
        );
        assert_eq!(s.list.unwrap().items, ["a=1", "b=2"]);
        assert_eq!(
            s.obj.unwrap().get(),
            Some(&Inner {
                name: Some("x".into())
            })
        );
        match s.first.unwrap() {
            First::Item(Obj::Value(inner)) => assert_eq!(inner.name.as_deref(), Some("y")),
            other => panic!("unexpected {other:?}"),
        }
        let s = parse(r#"{"list": [1, {"a": 1}], "obj": [1], "first": []}"#);
        assert!(s.list.unwrap().require("cookies").is_err());
        assert_eq!(s.obj.unwrap(), Obj::NotAnObject);
        assert_eq!(s.first.unwrap(), First::Nothing);
    }
}
