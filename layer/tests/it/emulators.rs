//! An independent check of the adapter's Runtime API client: cargo-lambda's
//! emulator (from PyPI, `cargo lambda watch --only-lambda-apis`) serves the
//! adapter, and every result must equal the one portside-local gives for the
//! same event and the same app.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{post, sample, App, Function, KeepAlive, Received, Reply};
use portside_local::runtime_api::Outcome;
use serde_json::Value;
use tokio::process::{Child, Command};

/// cargo-lambda's executable: `$CARGO_LAMBDA`, or the project's `.venv`.
fn cargo_lambda() -> PathBuf {
    if let Ok(path) = std::env::var("CARGO_LAMBDA") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/cargo-lambda");
    assert!(
        venv.is_file(),
        "cargo-lambda is not installed: run `. scripts/python-env.sh` at the repository root \
         (it installs the PyPI package cargo-lambda into .venv), or set CARGO_LAMBDA"
    );
    venv
}

/// cargo-lambda's Runtime API on a free port; killed when dropped.
struct CargoLambda {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl CargoLambda {
    async fn start() -> CargoLambda {
        // `cargo lambda watch` must run beside a Cargo package.
        let dir =
            std::env::temp_dir().join(format!("portside-cargo-lambda-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"emulated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start cargo-lambda");
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo-lambda did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        CargoLambda {
            child,
            port,
            _dir: TempDir(dir),
        }
    }

    /// Invokes through cargo-lambda's Invoke API: the result, or the error document.
    async fn invoke(&self, event: &str) -> Result<Value, Value> {
        let (status, body) = post(
            &format!("127.0.0.1:{}", self.port),
            "/2015-03-31/functions/_/invocations",
            event.to_string(),
        )
        .await;
        let json: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
        if status == 200 {
            Ok(json)
        } else {
            Err(json)
        }
    }
}

/// A deterministic app: it answers with what it received, minus the
/// per-invocation context (`x-amzn-*`, and the `traceparent` made from each
/// emulator's own random trace id), and sets two cookies.
fn respond(req: &Received) -> Reply {
    if req.target.starts_with("/fail") {
        return Reply::new(503).body("not today");
    }
    let headers: Vec<&(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("x-amzn-") && k != "traceparent"
        })
        .collect();
    let echo = serde_json::json!({
        "method": req.method, "target": req.target, "headers": headers,
        "body": String::from_utf8_lossy(&req.body),
    });
    Reply::new(200)
        .header("Content-Type", "application/json")
        .header("Set-Cookie", "a=1")
        .header("Set-Cookie", "b=2")
        .body(echo.to_string())
}

fn portside_local_result(outcome: Outcome) -> Result<Value, Value> {
    match outcome {
        Outcome::Response(bytes) => Ok(serde_json::from_slice(&bytes).unwrap()),
        Outcome::Error(err) => Err(serde_json::from_slice(&err.raw).unwrap()),
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test]
async fn the_adapter_gives_the_same_results_under_cargo_lambda_and_portside_local() {
    let app = App::start(KeepAlive::Forever, respond).await;
    let emulator = CargoLambda::start().await;
    let vars: HashMap<String, String> = HashMap::from([
        // The variables cargo-lambda tells its functions to set.
        (
            "AWS_LAMBDA_RUNTIME_API".into(),
            format!("http://127.0.0.1:{}/.rt", emulator.port),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), "_".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "1".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "4096".into()),
        ("PORT".into(), app.port.to_string()),
        ("AWS_LWA_ERROR_STATUS_CODES".into(), "503".into()),
    ]);
    let (_adapter, log) = crate::support::spawn_portside(vars);
    let local = Function::start(app.port, &[("AWS_LWA_ERROR_STATUS_CODES", "503")])
        .await
        .ready()
        .await;

    let events = [
        sample("aws-lambda-rust-runtime/apigw_v2_proxy_request.json"),
        sample("aws-lambda-rust-runtime/apigw_multi_value_proxy_request.json"),
        sample("aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json"),
        sample("aws-lambda-rust-runtime/alb_request.json"),
        sample("aws-lambda-rust-runtime/lambda_function_url_request.json"),
        sample("powertools-lambda-python/vpcLatticeV2Event.json"),
        sample("aws-lambda-rust-runtime/example-sqs-event.json"),
        // Failures: a malformed event, and a status listed as an error.
        r#"{"version": "2.0", "rawPath": 7, "requestContext": {"http": {"method": "GET"}}}"#.to_string(),
        r#"{"version": "2.0", "rawPath": "/fail", "rawQueryString": "", "requestContext": {"http": {"method": "GET"}}}"#
            .to_string(),
    ];
    let mut errors = 0;
    for event in &events {
        let under_cargo_lambda = emulator.invoke(event).await;
        let under_portside_local = portside_local_result(local.invoke(event).await);
        assert_eq!(
            under_cargo_lambda,
            under_portside_local,
            "event: {event}\nadapter log under cargo-lambda:\n{}",
            log.lock().unwrap()
        );
        if let Err(doc) = &under_cargo_lambda {
            assert!(
                doc["errorType"].as_str().unwrap().starts_with("Portside."),
                "{doc}"
            );
            errors += 1;
        }
    }
    assert_eq!(errors, 2, "the two failures are errors under both");
    drop(emulator.child);
}
