//! Accepting connections and answering requests on them, with faults applied on the way out.

use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::http::{read_request, Request, Response};
use super::{lock, routes, Fault, RequestLog, State};

/// A connection idle this long is closed (clients reconnect; nothing in a test waits this long).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn accept_loop(listener: TcpListener, state: Arc<State>) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        let _ = std::thread::Builder::new()
            .name("testkit-conn".to_string())
            .spawn(move || serve(stream, state));
    }
}

/// How a connection goes on after a response.
enum Next {
    KeepAlive,
    Close,
    /// Close with a TCP reset instead of a clean FIN.
    Reset,
}

fn serve(stream: TcpStream, state: Arc<State>) {
    let id = state.next_connection.fetch_add(1, Ordering::SeqCst);
    if let Ok(clone) = stream.try_clone() {
        lock(&state.connections).insert(id, clone);
    }
    let next = serve_requests(&stream, &state);
    // Drop every handle to the socket so that closing really closes it (and a reset resets).
    lock(&state.connections).remove(&id);
    match next {
        Next::Reset => {
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
        _ => {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
}

fn serve_requests(stream: &TcpStream, state: &State) -> Next {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return Next::Close;
    };
    let mut reader = BufReader::new(read_half);
    loop {
        let Ok(Some(request)) = read_request(&mut reader) else {
            return Next::Close;
        };
        if state.stop.load(Ordering::SeqCst) {
            return Next::Close;
        }
        log(state, &request);
        let keep_alive = request.keep_alive();
        let next = answer(stream, state, &request, keep_alive);
        match next {
            Next::KeepAlive if keep_alive => continue,
            Next::KeepAlive => return Next::Close,
            other => return other,
        }
    }
}

fn log(state: &State, request: &Request) {
    lock(&state.log).push(RequestLog {
        method: request.method.clone(),
        path: request.target.clone(),
        range: request.header("range").map(String::from),
        authorization: request.header("authorization").is_some(),
        accept: request.header("accept").map(String::from),
    });
}

fn take_fault(state: &State, path: &str) -> Option<Fault> {
    lock(&state.faults)
        .iter_mut()
        .find_map(|rule| rule.take(path).then(|| rule.fault.clone()))
}

/// Answers one request, applying the first matching fault.
fn answer(stream: &TcpStream, state: &State, request: &Request, keep_alive: bool) -> Next {
    let mut out = stream;
    let send_body = request.method != "HEAD";
    let fault = take_fault(state, &request.path());
    let response = match &fault {
        Some(Fault::Status(status)) => {
            Response::text(*status, &format!("injected fault: status {status}"))
        }
        Some(Fault::Redirect { to, status }) => Response::redirect(
            *status,
            &format!("{}{}", to.trim_end_matches('/'), request.target),
        ),
        Some(Fault::Stall(duration)) => {
            sleep_unless_stopped(state, *duration);
            routes::route(state, request)
        }
        Some(Fault::Body { content_type, body }) => Response::new(200, content_type, body.clone()),
        Some(Fault::CorruptBody) => {
            let mut response = routes::route(state, request);
            let middle = response.body.len() / 2;
            if let Some(byte) = response.body.get_mut(middle) {
                *byte ^= 0xff;
            }
            response
        }
        _ => routes::route(state, request),
    };
    let body: &[u8] = if send_body { &response.body } else { &[] };
    let half = body.len() / 2;
    let written = match &fault {
        Some(Fault::ResetMidBody) => {
            let _ = out
                .write_all(&response.head_bytes(keep_alive))
                .and_then(|()| out.write_all(&body[..half]));
            let _ = out.flush();
            return Next::Reset;
        }
        Some(Fault::ShortBody { missing }) => {
            let sent = body.len().saturating_sub(*missing);
            let _ = out
                .write_all(&response.head_bytes(false))
                .and_then(|()| out.write_all(&body[..sent]));
            let _ = out.flush();
            return Next::Close;
        }
        Some(Fault::StallMidBody(duration)) => out
            .write_all(&response.head_bytes(keep_alive))
            .and_then(|()| out.write_all(&body[..half]))
            .and_then(|()| out.flush())
            .and_then(|()| {
                sleep_unless_stopped(state, *duration);
                out.write_all(&body[half..])
            })
            .and_then(|()| out.flush()),
        Some(Fault::Trickle { chunk, interval }) => out
            .write_all(&response.head_bytes(keep_alive))
            .and_then(|()| {
                for piece in body.chunks((*chunk).max(1)) {
                    out.write_all(piece)?;
                    out.flush()?;
                    sleep_unless_stopped(state, *interval);
                }
                Ok(())
            }),
        _ => response.write_to(&mut out, send_body, keep_alive),
    };
    if written.is_err() {
        Next::Close
    } else {
        Next::KeepAlive
    }
}

/// Sleeps in short steps so a dropped server does not leave threads sleeping for long.
fn sleep_unless_stopped(state: &State, duration: Duration) {
    let deadline = Instant::now() + duration;
    while !state.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}
