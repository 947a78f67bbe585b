//! A Kubernetes API server on loopback that serves a scenario cluster: discovery (`/api`,
//! `/apis`, `/api/v1`, `/apis/<group>/<version>`), GET of one object, and a Kubernetes
//! `Status` for what it does not have — enough for policy-server's kube client. It counts the
//! requests, and can be switched down, failing or slow to test policy-server's faults.
//!
//! Plain HTTP/1.1 with keep-alive, as a real API server (and kube's connection pool) has it:
//! a thread per connection serves its requests one after the other until the client closes it,
//! or the server goes down or stops (then idle connections are closed within a few
//! milliseconds, and a connection closes after the request it is answering).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::metadata::ContextAwareResource;
use backup_blueprint_policy_e2e::request::plural;
use serde_json::{Value, json};

/// How the API server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers from the cluster.
    Up,
    /// Not listening: connections are refused.
    Down,
    /// Answers every request with a 500 `Status`.
    Failing,
    /// Answers from the cluster after this delay.
    Slow(Duration),
}

/// An object's answer other than its content: a `Status` with this code, reason and message
/// (what a recorded session's error stands for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

/// What the server serves: objects, failures of single objects, and the kinds it knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contents {
    pub cluster: Cluster,
    /// `(apiVersion, kind, namespace, name)` → the failure its GET answers.
    pub failures: BTreeMap<(String, String, Option<String>, String), Failure>,
    /// Kinds discovery lists besides those of the objects (the policy's contextAwareResources).
    pub kinds: Vec<ContextAwareResource>,
}

struct State {
    contents: Contents,
    mode: Mode,
    requests: Vec<String>,
}

/// The running server; stopped when dropped.
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeApiServer {
    /// Listens on `127.0.0.1:port`.
    pub fn start(port: u16, contents: Contents) -> std::io::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let state = Arc::new(Mutex::new(State {
            contents,
            mode: Mode::Up,
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let listener = listen(addr)?;
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || accept_loop(addr, Some(listener), &state, &stop))
        };
        Ok(Self {
            addr,
            state,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The kubeconfig that points a kube client at this server.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"http://{}\"}}\n\
             users:\n- name: fake\n  user: {{token: fake}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\n\
             current-context: fake\n",
            self.addr
        )
    }

    /// Serves other contents from now on.
    pub fn serve(&self, contents: Contents) {
        self.state.lock().unwrap().contents = contents;
    }

    /// Switches the behaviour; `Down` closes the listening socket and the idle connections
    /// (within a few milliseconds; a connection closes after the answer it is writing).
    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
        wake(self.addr);
        std::thread::sleep(Duration::from_millis(50));
    }

    /// How many requests were answered (or refused by a failing mode) so far.
    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    /// The request paths since `from`.
    pub fn requests_since(&self, from: usize) -> Vec<String> {
        self.state.lock().unwrap().requests[from..].to_vec()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        wake(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
}

/// Accepts connections, blocking in `accept` (a request is answered at once, as a real API
/// server would); `wake` unblocks it when the mode or `stop` changes. While down, nothing
/// listens and the mode is checked every few milliseconds.
fn accept_loop(addr: SocketAddr, mut listener: Option<TcpListener>, state: &Arc<Mutex<State>>, stop: &Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let down = state.lock().unwrap().mode == Mode::Down;
        if down {
            listener = None;
        } else if listener.is_none() {
            listener = listen(addr).ok();
        }
        match listener.as_ref().map(TcpListener::accept) {
            Some(Ok((stream, _))) if !stop.load(Ordering::SeqCst) => {
                let (state, stop) = (state.clone(), stop.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &state, &stop);
                });
            }
            Some(Err(e)) => eprintln!("fake API server: accept: {e}"),
            Some(Ok(_)) => {}
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Unblocks the acceptor of `addr` with a connection of its own (it then reads the mode and
/// `stop` again); the connection is answered like any other, or dropped when stopping.
fn wake(addr: SocketAddr) {
    if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

/// How often a connection waiting for its next request checks whether the server went down
/// or stops.
const IDLE_CHECK: Duration = Duration::from_millis(10);
/// How long a request may take to arrive once its first bytes have.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the requests of one connection, one after the other, until the client closes it,
/// asks to close it, or the server goes down or stops.
fn handle(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IDLE_CHECK))?;
    // One write per answer: no small segments held back by Nagle's algorithm on a live connection.
    stream.set_nodelay(true)?;
    let closing = || stop.load(Ordering::SeqCst) || state.lock().unwrap().mode == Mode::Down;
    // Bytes read beyond the request being answered: the start of the next one.
    let mut pending = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut pending, &closing)? {
        let keep_alive = request.keep_alive && !closing();
        answer(&mut stream, state, &request, keep_alive)?;
        if !keep_alive {
            break;
        }
    }
    Ok(())
}

/// A request's line, and whether its client will send another on the connection.
struct Request {
    method: String,
    path: String,
    keep_alive: bool,
}

/// Reads the next request (its head, and its body, which is discarded) from `stream` and the
/// bytes already read, `pending`. `None` when the client closed the connection, or when it sent
/// nothing while `closing` became true.
fn read_request(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    closing: &dyn Fn() -> bool,
) -> std::io::Result<Option<Request>> {
    // When the first bytes of this request arrived: from then on it must arrive in time.
    let mut started = (!pending.is_empty()).then(Instant::now);
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let (request, body_length) = parse_head(&String::from_utf8_lossy(&pending[..end]));
            let length = end + 4 + body_length;
            if pending.len() >= length {
                pending.drain(..length);
                return Ok(Some(request));
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                started.get_or_insert_with(Instant::now);
                pending.extend_from_slice(&buf[..n]);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                match started {
                    None if closing() => return Ok(None),
                    Some(at) if at.elapsed() > REQUEST_TIMEOUT => return Err(e),
                    _ => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The request line and headers: the request, and the length of its body. A chunked body is
/// not read: the connection is closed after the answer.
fn parse_head(head: &str) -> (Request, usize) {
    let mut lines = head.lines();
    let mut words = lines.next().unwrap_or_default().split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or_default();
    let version = words.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let mut keep_alive = version == "HTTP/1.1";
    let mut body_length = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "connection" if value.split(',').any(|v| v.trim() == "close") => keep_alive = false,
            "connection" if value.split(',').any(|v| v.trim() == "keep-alive") => keep_alive = true,
            "content-length" => body_length = value.parse().unwrap_or(0),
            "transfer-encoding" => keep_alive = false,
            _ => {}
        }
    }
    (
        Request {
            method,
            path,
            keep_alive,
        },
        body_length,
    )
}

/// Counts and answers one request, as the mode says.
fn answer(stream: &mut TcpStream, state: &Mutex<State>, request: &Request, keep_alive: bool) -> std::io::Result<()> {
    let (method, path) = (request.method.as_str(), request.path.as_str());
    let (mode, answer) = {
        let mut state = state.lock().unwrap();
        state.requests.push(format!("{method} {path}"));
        let answer = match (state.mode, method) {
            (Mode::Failing, _) => status(
                500,
                "InternalError",
                "Internal error occurred: the fake API server fails on purpose",
            ),
            (_, "GET") => route(&state.contents, path),
            _ => status(405, "MethodNotAllowed", "the fake API server only serves GET"),
        };
        (state.mode, answer)
    };
    if let Mode::Slow(delay) = mode {
        std::thread::sleep(delay);
    }
    let (code, body) = answer;
    let body = body.to_string();
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let response = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        reason_phrase(code),
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A Kubernetes `Status` answer.
fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

/// The kinds discovery knows: `(apiVersion, kind, namespaced)`.
fn kinds(contents: &Contents) -> Vec<(String, String, bool)> {
    let mut kinds: Vec<(String, String)> = contents
        .kinds
        .iter()
        .map(|k| (k.api_version.clone(), k.kind.clone()))
        .chain(contents.cluster.objects().iter().map(|o| {
            (
                o["apiVersion"].as_str().unwrap_or_default().to_string(),
                o["kind"].as_str().unwrap_or_default().to_string(),
            )
        }))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|(api_version, kind)| {
            let namespaced = !contents.cluster.is_cluster_scoped(&api_version, &kind);
            (api_version, kind, namespaced)
        })
        .collect()
}

fn route(contents: &Contents, path: &str) -> (u16, Value) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (api_version, rest) = match segments.as_slice() {
        ["api"] => {
            return (
                200,
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        ["apis"] => return (200, group_list(contents)),
        ["api", version, rest @ ..] => (version.to_string(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return not_found_path(),
    };
    let (namespace, plural_name, name) = match rest {
        [] => return resource_list(contents, &api_version),
        ["namespaces", namespace, resource, name] => (Some(namespace.to_string()), *resource, *name),
        [resource, name] => (None, *resource, *name),
        _ => return not_found_path(),
    };
    let Some((_, kind, namespaced)) = kinds(contents)
        .into_iter()
        .find(|(v, k, _)| *v == api_version && plural(k) == plural_name)
    else {
        return not_found_path();
    };
    if namespaced != namespace.is_some() {
        return not_found_path();
    }
    let key = (api_version.clone(), kind.clone(), namespace.clone(), name.to_string());
    if let Some(failure) = contents.failures.get(&key) {
        return status(failure.code, &failure.reason, &failure.message);
    }
    let found = contents.cluster.objects().iter().find(|o| {
        o["apiVersion"] == api_version.as_str()
            && o["kind"] == kind.as_str()
            && o["metadata"]["name"] == name
            && (namespace.is_none() || o["metadata"]["namespace"].as_str() == namespace.as_deref())
    });
    match found {
        Some(object) => (200, object.clone()),
        None => {
            let (code, mut body) = status(404, "NotFound", &format!("{plural_name} \"{name}\" not found"));
            body["details"] = json!({"name": name, "kind": plural_name});
            (code, body)
        }
    }
}

fn not_found_path() -> (u16, Value) {
    status(404, "NotFound", "the server could not find the requested resource")
}

fn group_list(contents: &Contents) -> Value {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (api_version, _, _) in kinds(contents) {
        if let Some((group, version)) = api_version.split_once('/') {
            let versions = groups.entry(group.to_string()).or_default();
            if !versions.contains(&version.to_string()) {
                versions.push(version.to_string());
            }
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(contents: &Contents, api_version: &str) -> (u16, Value) {
    let resources: Vec<Value> = kinds(contents)
        .into_iter()
        .filter(|(v, _, _)| v == api_version)
        .map(|(_, kind, namespaced)| {
            json!({"name": plural(&kind), "singularName": kind.to_lowercase(), "namespaced": namespaced,
                   "kind": kind, "verbs": ["get", "list", "watch"]})
        })
        .collect();
    if resources.is_empty() {
        return not_found_path();
    }
    (
        200,
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version, "resources": resources}),
    )
}
