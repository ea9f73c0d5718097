//! A scripted HTTP stub for failure modes the real service cannot be made to show on cue:
//! each connection gets the next step of a script (an answer, or a close without one).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the stub does with one connection, after reading its whole request.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Answers with this status, extra header lines (each ending in `\r\n`) and JSON body.
    Answer(u16, &'static str, &'static str),
    /// Answers like [`Step::Answer`] once this many milliseconds have passed.
    Late(u64, u16, &'static str),
    /// Closes the connection without answering.
    Close,
    /// Sends this status and the start of a body it announces as longer, then closes.
    CutOff(u16),
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Runs `script` in order, one step per connection; the last step repeats. Returns the URL and
/// the requests seen.
pub fn serve(script: Vec<Step>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let Some(request) = read_request(&stream) else {
                continue;
            };
            log.lock().expect("lock").push(request);
            let step = script[i.min(script.len() - 1)];
            let step = match step {
                Step::Late(millis, status, body) => {
                    std::thread::sleep(std::time::Duration::from_millis(millis));
                    Step::Answer(status, "", body)
                }
                other => other,
            };
            match step {
                Step::Late(..) => unreachable!("turned into an answer above"),
                Step::Answer(status, extra, body) => {
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                }
                Step::Close => drop(stream),
                Step::CutOff(status) => {
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{{\"id\""
                    );
                    let _ = stream.write_all(response.as_bytes());
                }
            }
        }
    });
    (url, seen)
}

/// Reads a request line, headers and a `content-length` or chunked body.
fn read_request(stream: &std::net::TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Seen {
        request_line: request_line.trim_end().to_owned(),
        headers,
        body,
    })
}
