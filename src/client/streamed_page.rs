//! Reading a list answer of the shape `{"data":[…],"next_cursor":null}` as it arrives: each item
//! of `data` is parsed as soon as its bytes are in, so a list of any length is read in the
//! memory of a few items, and an answer cut off before its closing `]}` is an error, never a
//! shorter list.

use serde::de::DeserializeOwned;

/// What comes before the first item (whitespace between the tokens aside).
const HEAD: &[u8] = b"{\"data\":[";
/// What follows the last item's `]` (whitespace aside): a streamed list has no next page.
const TAIL: &[u8] = b",\"next_cursor\":null}";
/// Longest head or tail accepted, whitespace included, before the answer is called malformed.
const MAX_FRAME: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before `[`.
    Head,
    /// After `[`: an item or `]`.
    First,
    /// After an item: `,` or `]`.
    AfterItem,
    /// After `,`: an item.
    AfterComma,
    /// After `]`: the rest of the object.
    Tail,
}

/// The parser's position in one streamed answer, and the bytes of an item not yet complete.
pub(super) struct StreamedPage {
    buf: Vec<u8>,
    state: State,
}

impl StreamedPage {
    pub(super) fn new() -> Self {
        StreamedPage {
            buf: Vec::new(),
            state: State::Head,
        }
    }

    /// Takes the next bytes of the answer and appends every item they complete to `out`.
    /// Errors say what was wrong with the answer.
    pub(super) fn feed<T: DeserializeOwned>(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<T>,
    ) -> Result<(), String> {
        self.buf.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match self.state {
                State::Head => {
                    let Some(open) = self.buf.iter().position(|b| *b == b'[') else {
                        if self.buf.len() > MAX_FRAME {
                            return Err("the answer does not start with a `data` list".into());
                        }
                        break;
                    };
                    if without_whitespace(&self.buf[..=open]) != HEAD {
                        return Err("the answer does not start with a `data` list".into());
                    }
                    pos = open + 1;
                    self.state = State::First;
                }
                State::First | State::AfterItem | State::AfterComma => {
                    pos += leading_whitespace(&self.buf[pos..]);
                    let Some(&next) = self.buf.get(pos) else {
                        break;
                    };
                    match (self.state, next) {
                        (State::First | State::AfterItem, b']') => {
                            pos += 1;
                            self.state = State::Tail;
                            continue;
                        }
                        (State::AfterItem, b',') => {
                            pos += 1;
                            self.state = State::AfterComma;
                            continue;
                        }
                        (State::AfterItem, _) => {
                            return Err("items of `data` are not separated by commas".into());
                        }
                        _ => {}
                    }
                    let mut items =
                        serde_json::Deserializer::from_slice(&self.buf[pos..]).into_iter::<T>();
                    match items.next() {
                        Some(Ok(item)) => {
                            pos += items.byte_offset();
                            out.push(item);
                            self.state = State::AfterItem;
                        }
                        // The item's bytes are not all in yet.
                        Some(Err(err)) if err.is_eof() => break,
                        None => break,
                        Some(Err(err)) => return Err(format!("an item is malformed: {err}")),
                    }
                }
                State::Tail => {
                    if self.buf.len() - pos > MAX_FRAME {
                        return Err("the answer goes on after its list".into());
                    }
                    break;
                }
            }
        }
        self.buf.drain(..pos);
        Ok(())
    }

    /// Checks that the whole answer arrived: the list closed and the object ended.
    pub(super) fn finish(&self) -> Result<(), String> {
        match self.state {
            State::Tail if without_whitespace(&self.buf) == TAIL => Ok(()),
            State::Tail => Err("the answer does not end as a complete list".into()),
            _ => Err("the answer ended before its list did".into()),
        }
    }
}

fn leading_whitespace(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .count()
}

fn without_whitespace(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .copied()
        .filter(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` in pieces of `size` bytes; returns the items and the end check.
    fn read(text: &str, size: usize) -> (Vec<serde_json::Value>, Result<(), String>) {
        let mut page = StreamedPage::new();
        let mut items = Vec::new();
        for piece in text.as_bytes().chunks(size.max(1)) {
            if let Err(err) = page.feed(piece, &mut items) {
                return (items, Err(err));
            }
        }
        let end = page.finish();
        (items, end)
    }

    const LIST: &str = r#"{"data":[{"id":"a","s":"],\"}["},{"id":"b","n":[1,{"x":null}]},{"id":"c"}],"next_cursor":null}"#;

    #[test]
    fn every_item_arrives_whatever_the_pieces() {
        for size in [1, 2, 3, 7, 16, 64, LIST.len()] {
            let (items, end) = read(LIST, size);
            assert_eq!(end, Ok(()), "pieces of {size}");
            let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
            assert_eq!(ids, ["a", "b", "c"], "pieces of {size}");
            assert_eq!(items[0]["s"], "],\"}[");
        }
    }

    #[test]
    fn whitespace_between_tokens_and_an_empty_list_are_read() {
        let (items, end) = read("{ \"data\" : [ ] , \"next_cursor\" : null }\n", 3);
        assert_eq!(end, Ok(()));
        assert!(items.is_empty());
        let (items, end) = read(
            "{\"data\":[ {\"id\":1} ,\n {\"id\":2} ],\"next_cursor\":null}",
            5,
        );
        assert_eq!(end, Ok(()));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn an_answer_cut_off_anywhere_is_an_error() {
        for cut in 0..LIST.len() {
            let (_, end) = read(&LIST[..cut], 4);
            assert!(end.is_err(), "cut at {cut}: {:?}", &LIST[..cut]);
        }
    }

    #[test]
    fn a_malformed_answer_is_an_error() {
        for bad in [
            r#"{"items":[],"next_cursor":null}"#,
            r#"{"data":[{"id":1}{"id":2}],"next_cursor":null}"#,
            r#"{"data":[{"id":1},],"next_cursor":null}"#,
            r#"{"data":[{"id":1],"next_cursor":null}"#,
            r#"{"data":[],"next_cursor":"dev_1"}"#,
            r#"{"data":[]}"#,
        ] {
            assert!(read(bad, 4).1.is_err(), "{bad}");
        }
    }
}
