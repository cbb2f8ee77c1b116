//! A Lambda Runtime API emulator on 127.0.0.1 (an ephemeral port per function) and the function
//! process it serves: what the Lambda service does for a `provided.al2023` function, to the extent
//! the bootstraps see it. It hands out one invocation at a time (`/next`), takes its response or
//! error, and keeps the function's log lines (its stdout and stderr, as CloudWatch would).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The function's response.
    Response(Value),
    /// The error the function reported (`/error`): Lambda retries or fails the event.
    Error(Value),
}

struct Invocation {
    event: Value,
    deadline: Duration,
    reply: oneshot::Sender<Outcome>,
}

struct Api {
    arn: String,
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: Mutex<Option<oneshot::Sender<Instant>>>,
    init_error: Mutex<Option<String>>,
    counter: Mutex<u64>,
}

async fn next(State(api): State<Arc<Api>>) -> impl IntoResponse {
    if let Some(first) = api.first_poll.lock().unwrap().take() {
        let _ = first.send(Instant::now());
    }
    let Some(invocation) = api.next.lock().await.recv().await else {
        // The test is over: the function waits, as an idle function does.
        return std::future::pending().await;
    };
    let id = {
        let mut counter = api.counter.lock().unwrap();
        *counter += 1;
        format!("e2e-{:08}", *counter)
    };
    api.pending
        .lock()
        .unwrap()
        .insert(id.clone(), invocation.reply);
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        + invocation.deadline;
    (
        [
            ("lambda-runtime-aws-request-id", id),
            (
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            ),
            ("lambda-runtime-invoked-function-arn", api.arn.clone()),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        invocation.event.to_string(),
    )
        .into_response()
}

fn finish(api: &Api, id: &str, outcome: Outcome) -> StatusCode {
    match api.pending.lock().unwrap().remove(id) {
        Some(reply) => {
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&api, &id, Outcome::Response(json_of(&body)))
}

async fn error(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&api, &id, Outcome::Error(json_of(&body)))
}

async fn init_error(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    *api.init_error.lock().unwrap() = Some(format!("{kind}: {}", String::from_utf8_lossy(&body)));
    StatusCode::ACCEPTED
}

/// What starts a function: its executable (and how to run it, for an emulator such as qemu-user),
/// and its environment as the template configures it.
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) program: std::path::PathBuf,
    pub(crate) wrapper: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) memory_mib: u64,
    pub(crate) timeout: Duration,
    /// Run in a memory cgroup of `memory_mib` where one can be made.
    pub(crate) limit_memory: bool,
}

/// A running function behind its own Runtime API.
pub(crate) struct Function {
    pub(crate) name: String,
    tx: mpsc::UnboundedSender<Invocation>,
    api: Arc<Api>,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    timeout: Duration,
    server: tokio::task::JoinHandle<()>,
    /// The memory cgroup it runs in, if any (dropped after the process is killed).
    pub(crate) cgroup: Option<super::memory::Cgroup>,
    /// From process start to its first request for an event.
    pub(crate) init: Duration,
}

impl Drop for Function {
    fn drop(&mut self) {
        self.server.abort();
        let _ = self.child.start_kill();
        if self.cgroup.is_some() {
            // The cgroup can go once its process has.
            for _ in 0..100 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn keep_lines(
    from: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
) {
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            logs.lock().unwrap().push(line);
        }
    });
}

impl Function {
    /// Starts the function and waits until it asks for its first event (its init is done).
    pub(crate) async fn start(spec: Spec) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = oneshot::channel();
        let api = Arc::new(Api {
            arn: format!(
                "arn:aws:lambda:{}:{}:function:{}",
                super::template::REGION,
                super::template::ACCOUNT,
                spec.name
            ),
            next: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(Some(first_tx)),
            init_error: Mutex::new(None),
            counter: Mutex::new(0),
        });
        let router = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&api));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let service_env = lambda_service_env(&spec, &address);
        let (program, args) = match spec.wrapper.split_first() {
            Some((wrapper, rest)) => {
                let mut args = rest.to_vec();
                args.push(spec.program.display().to_string());
                (std::path::PathBuf::from(wrapper), args)
            }
            None => (spec.program.clone(), Vec::new()),
        };
        let started = Instant::now();
        let mut child = Command::new(&program)
            .args(&args)
            .env_clear()
            .envs(service_env)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let cgroup = if spec.limit_memory {
            super::memory::Cgroup::new(spec.memory_mib << 20)
        } else {
            None
        };
        if let Some(cgroup) = &cgroup {
            cgroup.add(child.id().expect("pid"));
        }
        let logs = Arc::new(Mutex::new(Vec::new()));
        keep_lines(child.stdout.take().unwrap(), Arc::clone(&logs));
        keep_lines(child.stderr.take().unwrap(), Arc::clone(&logs));
        let mut function = Self {
            name: spec.name,
            tx,
            api,
            child,
            logs,
            timeout: spec.timeout,
            server,
            cgroup,
            init: Duration::ZERO,
        };
        // Lambda's init phase is limited to 10 s; emulated arm64 is far slower, so wait longer.
        let polled = tokio::select! {
            polled = first_rx => polled.ok(),
            status = function.child.wait() => {
                panic!("{} exited during init ({status:?}): {}", function.name, function.log_tail())
            }
            () = tokio::time::sleep(Duration::from_secs(300)) => None,
        };
        let Some(polled) = polled else {
            panic!(
                "{} never asked for an event: {}",
                function.name,
                function.log_tail()
            );
        };
        if let Some(error) = function.api.init_error.lock().unwrap().clone() {
            panic!("{} reported an init error: {error}", function.name);
        }
        function.init = polled.duration_since(started);
        function
    }

    /// With a longer invocation timeout than the template's (for emulated runs, which are slower).
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Invokes the function with `event` and waits for its outcome, at most its timeout.
    pub(crate) async fn invoke(&mut self, event: Value) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        self.tx
            .send(Invocation {
                event,
                deadline: self.timeout,
                reply,
            })
            .unwrap();
        tokio::select! {
            outcome = outcome => outcome.unwrap(),
            status = self.child.wait() => panic!("{} died while invoked ({status:?}): {}", self.name, self.log_tail()),
            () = tokio::time::sleep(self.timeout) => panic!("{} timed out: {}", self.name, self.log_tail()),
        }
    }

    /// Invokes and expects a response (an error fails the test, with the function's logs).
    pub(crate) async fn call(&mut self, event: Value) -> Value {
        match self.invoke(event).await {
            Outcome::Response(value) => value,
            Outcome::Error(error) => panic!("{} failed: {error}\n{}", self.name, self.log_tail()),
        }
    }

    /// The process's peak resident set so far, in bytes.
    pub(crate) fn peak_rss(&self) -> u64 {
        self.child.id().map_or(0, super::memory::peak_rss)
    }

    /// Every log line so far.
    pub(crate) fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The function's first log line that `matches`, waiting up to `within` for it: its output is
    /// read by a thread of its own, so a line written before the invocation answered may arrive
    /// after the answer.
    pub(crate) async fn wait_for_log(
        &self,
        within: std::time::Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(line) = self.logs().into_iter().find(|l| matches(l)) {
                return Some(line);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The last log lines, for failure messages.
    pub(crate) fn log_tail(&self) -> String {
        let logs = self.logs();
        logs[logs.len().saturating_sub(40)..].join("\n")
    }
}

/// The variables the Lambda service sets for every function (the reserved ones of
/// docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-runtime.html), with credentials
/// any emulator accepts and the endpoints pointed at the emulators by `AWS_ENDPOINT_URL*`.
fn lambda_service_env(spec: &Spec, runtime_api: &str) -> Vec<(String, String)> {
    let region = super::template::REGION;
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mib.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "e2e".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", region.to_owned()),
        ("AWS_DEFAULT_REGION", region.to_owned()),
        ("AWS_ACCESS_KEY_ID", super::stack::ACCESS_KEY.0.to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            super::stack::ACCESS_KEY.1.to_owned(),
        ),
        ("AWS_SESSION_TOKEN", "e2e-session".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
