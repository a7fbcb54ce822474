//! Taking a long event as it arrives, its base64 body decoded on the way.
//!
//! Owns: the `/next` payload frame by frame (as hyper reads it, up to
//! 60 KiB a frame) when it is long and, when it is an object whose
//! top-level `body` is a plain string, decoding that string as base64
//! frame by frame while each frame is still in the CPU's cache. The 1.4 MB
//! of a 1 MiB upload are then never copied into one buffer nor checked as
//! UTF-8 (a string the decoder takes is ASCII), and hyper reads every
//! frame into the same warm buffer; what is left of the payload (all of it
//! but the body's contents, a few kilobytes) is one small buffer for
//! serde_json.
//! Must not: decide what the event is. [`super::parse_split`] reads what is
//! left and takes the decoded body only where the event says the body is
//! base64. At any doubt (no such body, an escape or a control character in
//! it, a character base64 does not have, padding before its end,
//! `isBase64Encoded` not `true`, anything that is not an HTTP event) the
//! payload is read whole, as it always was.
//!
//! No frame is kept: the payload whole is given back from what was kept,
//! the body's characters by encoding again what was decoded. That is exact:
//! only whole groups of four characters are decoded before the body's
//! last group (each group of four is the one encoding of its three bytes,
//! and a group with padding is refused there), and the last group is kept
//! as it came. The invariant its tests hold: however a payload is cut into
//! frames, the request made from it split is the request made from it
//! whole, and the payload given back whole is the payload.

use bytes::Bytes;

use super::scan;

/// The most bytes read before the body's string opens: an event's other
/// members take a few kilobytes; a payload with more before its body is
/// read whole (which also bounds the searches for the body).
const HEAD_LIMIT: usize = 256 * 1024;

/// A `/next` payload, as read.
#[derive(Debug, Clone)]
pub enum Payload {
    /// The payload's bytes.
    Whole(Bytes),
    /// A payload whose top-level `body` string was decoded as it arrived.
    Split(Split),
}

/// A payload taken apart: what is left of it without the body's contents,
/// and the body decoded.
#[derive(Debug, Clone)]
pub struct Split {
    /// The payload with its top-level `body` emptied to `""`.
    rest: Vec<u8>,
    /// Where the body's contents were in `rest`: just past its opening `"`.
    body_at: usize,
    /// The body's contents, decoded from base64.
    decoded: Bytes,
    /// The body's last group of characters as it came (padded or not),
    /// and how many of `decoded`'s bytes it gave.
    last: [u8; 4],
    last_chars: usize,
    last_bytes: usize,
}

impl Split {
    /// The payload with its top-level `body` emptied to `""`.
    pub fn rest(&self) -> &[u8] {
        &self.rest
    }

    /// The body's contents, decoded from base64.
    pub fn decoded(&self) -> &Bytes {
        &self.decoded
    }

    /// The payload whole, as it came: the body's characters are the
    /// encoding of all but its last group, then that group as it came.
    pub fn join(&self) -> Bytes {
        let groups = &self.decoded[..self.decoded.len() - self.last_bytes];
        let mut whole = Vec::with_capacity(self.rest.len() + groups.len() / 3 * 4 + 4);
        whole.extend_from_slice(&self.rest[..self.body_at]);
        append_encoded(&mut whole, groups);
        whole.extend_from_slice(&self.last[..self.last_chars]);
        whole.extend_from_slice(&self.rest[self.body_at..]);
        Bytes::from(whole)
    }
}

impl Payload {
    /// The payload's bytes, joined if they came split.
    pub fn into_whole(self) -> Bytes {
        match self {
            Payload::Whole(bytes) => bytes,
            Payload::Split(split) => split.join(),
        }
    }

    /// What an error message may quote: the bytes, or, of a split payload,
    /// all but its body.
    pub fn excerpt(&self) -> &[u8] {
        match self {
            Payload::Whole(bytes) => bytes,
            Payload::Split(split) => split.rest(),
        }
    }
}

/// Where the assembler is in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the body's string opens: every byte is kept.
    Head,
    /// Inside the body's string: its characters are decoded.
    Body,
    /// After the body's closing `"`: every byte is kept.
    Tail,
    /// Not to be split: every byte is kept, to be read whole.
    Whole,
}

/// Takes a payload frame by frame ([`Assembler::push`]) and gives it back
/// split or whole ([`Assembler::finish`]).
#[derive(Debug)]
pub struct Assembler {
    /// The payload's announced length.
    length: usize,
    /// Before the body: the length the bytes so far must reach before the
    /// next search for it (twice the last one's), so that a payload coming
    /// in small frames is not searched again from its start on each.
    search_at: usize,
    state: State,
    /// Every byte kept: the payload up to the body's opening `"` (then
    /// from its closing `"` on), or all of it when it is read whole.
    rest: Vec<u8>,
    /// Where the body's contents start in `rest`.
    body_at: usize,
    /// Body characters not decoded yet (at most a group); once the body
    /// has ended, its last group as it came.
    carry: [u8; 4],
    carried: usize,
    decoded: Vec<u8>,
    /// The bytes the body's last group gave.
    last_bytes: usize,
}

impl Assembler {
    /// An assembler for a payload of `length` bytes.
    pub fn new(length: usize) -> Self {
        Assembler {
            length,
            search_at: 0,
            state: State::Head,
            rest: Vec::new(),
            body_at: 0,
            carry: [0; 4],
            carried: 0,
            decoded: Vec::new(),
            last_bytes: 0,
        }
    }

    /// The payload's next bytes.
    pub fn push(&mut self, frame: &[u8]) {
        match self.state {
            State::Head => {
                self.rest.extend_from_slice(frame);
                if self.rest.len() >= self.search_at {
                    self.find_body();
                }
            }
            State::Body => self.body(frame),
            State::Tail | State::Whole => self.rest.extend_from_slice(frame),
        }
    }

    /// The payload: split if its body was decoded to its end, else whole.
    pub fn finish(mut self) -> Payload {
        if self.state == State::Head {
            // The last bytes came before the next search was due.
            self.find_body();
        }
        if self.state == State::Body {
            // The payload ended inside the body's string.
            self.read_whole(&[]);
        }
        if self.state == State::Tail {
            Payload::Split(Split {
                rest: self.rest,
                body_at: self.body_at,
                decoded: Bytes::from(self.decoded),
                last: self.carry,
                last_chars: self.carried,
                last_bytes: self.last_bytes,
            })
        } else {
            Payload::Whole(Bytes::from(self.rest))
        }
    }

    /// Looks for the body's opening `"` in the bytes so far and, found,
    /// decodes what follows it.
    fn find_body(&mut self) {
        let start = match scan::string_member_start(&self.rest, b"body") {
            Some(start) if start <= HEAD_LIMIT => start,
            None if self.rest.len() <= HEAD_LIMIT => {
                self.search_at = (self.rest.len() * 2).min(HEAD_LIMIT + 1);
                return;
            }
            _ => {
                self.state = State::Whole;
                self.rest
                    .reserve(self.length.saturating_sub(self.rest.len()));
                return;
            }
        };
        self.state = State::Body;
        self.body_at = start;
        // Room for the rest decoded (and the vector kernel's last store).
        self.decoded
            .reserve(self.length.saturating_sub(start) / 4 * 3 + 40);
        // The body's first characters (a frame's worth at most, unless the
        // search waited) came with the bytes before it.
        let first = self.rest.split_off(start);
        self.body(&first);
    }

    /// Decodes the body's characters in `bytes` up to its closing `"`, if
    /// that is in `bytes`; what follows it is kept.
    fn body(&mut self, bytes: &[u8]) {
        let before = (self.decoded.len(), self.carry, self.carried);
        let end = scan::next_special(bytes, 0);
        let decoded = match bytes.get(end) {
            None => self.decode_groups(bytes),
            Some(b'"') => self.decode_last(&bytes[..end]),
            // `\` or a control character: not a plain string.
            Some(_) => false,
        };
        if !decoded {
            (self.carry, self.carried) = (before.1, before.2);
            self.decoded.truncate(before.0);
            self.read_whole(bytes);
        } else if end < bytes.len() {
            self.state = State::Tail;
            self.rest.extend_from_slice(&bytes[end..]);
        }
    }

    /// Decodes the characters carried and `chars` but the last one to four,
    /// which it carries (the body's last group, if no more come, must be
    /// read as an end); `false` when they are not base64 or hold padding
    /// (which only the body's last group may have).
    fn decode_groups(&mut self, mut chars: &[u8]) -> bool {
        if self.carried + chars.len() <= 4 {
            self.carry[self.carried..self.carried + chars.len()].copy_from_slice(chars);
            self.carried += chars.len();
            return true;
        }
        if self.carried > 0 {
            // More than four in all: the carried group is complete and not
            // the last.
            let need = 4 - self.carried;
            self.carry[self.carried..].copy_from_slice(&chars[..need]);
            chars = &chars[need..];
            self.carried = 0;
            let group = self.carry;
            if !self.decode_inner(&group) {
                return false;
            }
        }
        let hold = match chars.len() % 4 {
            0 => 4.min(chars.len()),
            left => left,
        };
        let (groups, held) = chars.split_at(chars.len() - hold);
        if !groups.is_empty() && !self.decode_inner(groups) {
            return false;
        }
        self.carry[..held.len()].copy_from_slice(held);
        self.carried = held.len();
        true
    }

    /// Decodes whole groups that more characters follow: `false` when they
    /// are not base64 or hold padding. The decoder takes padding in the last
    /// group it is given and only there, so that group must have none.
    fn decode_inner(&mut self, groups: &[u8]) -> bool {
        let last = &groups[groups.len().saturating_sub(4)..];
        !last.contains(&b'=') && crate::body::decode_base64_into(groups, &mut self.decoded)
    }

    /// Decodes the body's last characters, `chars` (the carried ones before
    /// them): all but the last group as [`Self::decode_groups`] does, and
    /// that group (one to four characters, none for an empty body) as the
    /// end of a base64 text, padded or not, as the decoder reads any end.
    fn decode_last(&mut self, chars: &[u8]) -> bool {
        if !self.decode_groups(chars) {
            return false;
        }
        // The carried group stays, as the body's last as it came.
        let before = self.decoded.len();
        let decoded =
            crate::body::decode_base64_into(&self.carry[..self.carried], &mut self.decoded);
        self.last_bytes = self.decoded.len() - before;
        decoded
    }

    /// From here on, every byte is kept to be read whole: the body's
    /// characters so far (the encoding of what was decoded, then those
    /// carried) and `bytes`, the ones that were not decoded.
    fn read_whole(&mut self, bytes: &[u8]) {
        self.state = State::Whole;
        let decoded = std::mem::take(&mut self.decoded);
        self.rest
            .reserve(self.length.saturating_sub(self.rest.len()) + decoded.len() / 3 * 4);
        append_encoded(&mut self.rest, &decoded);
        self.rest.extend_from_slice(&self.carry[..self.carried]);
        self.carried = 0;
        self.rest.extend_from_slice(bytes);
    }
}

/// Appends the base64 of `bytes`, whole groups of three (so unpadded).
fn append_encoded(out: &mut Vec<u8>, bytes: &[u8]) {
    debug_assert_eq!(bytes.len() % 3, 0, "only whole groups are encoded again");
    let at = out.len();
    out.resize(at + bytes.len() / 3 * 4, 0);
    crate::body::encode_base64_into(bytes, &mut out[at..]);
}
