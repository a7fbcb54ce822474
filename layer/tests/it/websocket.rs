//! API Gateway WebSocket APIs through the adapter: `$connect`, messages and
//! `$disconnect` reach the app as POSTs, and its answers become route responses.

use crate::support::events::websocket;
use crate::support::{result_json, sample, App, Function, KeepAlive, Reply};
use serde_json::{json, Value};

#[tokio::test]
async fn connect_message_and_disconnect_reach_the_app_as_posts() {
    let app = App::start(KeepAlive::Forever, |req| {
        let event = req
            .all("x-portside-websocket-event")
            .first()
            .map(|s| s.to_string());
        match event.as_deref() {
            Some("CONNECT") if req.target.contains("token=good") => {
                Reply::new(200).header("Sec-WebSocket-Protocol", "chat")
            }
            Some("CONNECT") => Reply::new(403).body("bad token"),
            Some("MESSAGE") => Reply::new(200)
                .header("Content-Type", "application/json")
                .body(format!(
                    "{{\"echo\":{}}}",
                    String::from_utf8_lossy(&req.body)
                )),
            Some(_) => Reply::new(204),
            None => Reply::new(200),
        }
    })
    .await;
    let f = Function::start(app.port, &[("PORTSIDE_WEBSOCKET_PATH", "/ws")])
        .await
        .ready()
        .await;

    // $connect: the handshake's headers and query reach the app; 2xx accepts.
    let connect = |token: &str| {
        websocket("CONNECT", "$connect")
            .headers(json!({"Host": "abc123.execute-api.eu-west-1.amazonaws.com",
                "Sec-WebSocket-Protocol": "chat, superchat", "x-portside-websocket-event": "MESSAGE"}))
            .set("multiValueHeaders", json!({"Sec-WebSocket-Protocol": ["chat, superchat"]}))
            .set("queryStringParameters", json!({"token": token}))
            .set("multiValueQueryStringParameters", json!({"token": [token]}))
            .build()
    };
    let accepted = result_json(&f.invoke(&connect("good")).await);
    assert_eq!(accepted["statusCode"], 200);
    assert_eq!(accepted["headers"]["sec-websocket-protocol"], "chat");

    // A non-2xx answer to $connect refuses the connection.
    let refused = result_json(&f.invoke(&connect("bad")).await);
    assert_eq!(refused["statusCode"], 403);
    assert_eq!(refused["body"], "bad token");

    // A message: the frame's text is the body, the app's body the route response.
    let reply = result_json(
        &f.invoke(
            &websocket("MESSAGE", "$default")
                .message("{\"say\":\"hi\"}")
                .build(),
        )
        .await,
    );
    assert_eq!(reply["statusCode"], 200);
    assert_eq!(
        serde_json::from_str::<Value>(reply["body"].as_str().unwrap()).unwrap(),
        json!({"echo": {"say": "hi"}})
    );

    let bye = result_json(
        &f.invoke(&websocket("DISCONNECT", "$disconnect").build())
            .await,
    );
    assert_eq!(bye["statusCode"], 204);

    let received = app.received();
    assert_eq!(received.len(), 4);
    let connect = &received[0];
    assert_eq!(
        (connect.method.as_str(), connect.target.as_str()),
        ("POST", "/ws?token=good")
    );
    assert_eq!(
        connect.one("x-portside-websocket-event"),
        "CONNECT",
        "the client's forged copy is gone"
    );
    assert_eq!(connect.one("x-portside-websocket-route"), "$connect");
    assert_eq!(
        connect.one("x-portside-websocket-connection-id"),
        "L0SM9cOFvHcCIhw="
    );
    assert_eq!(connect.one("sec-websocket-protocol"), "chat, superchat");
    let context: Value = serde_json::from_str(connect.one("x-amzn-request-context")).unwrap();
    assert_eq!(
        context["domainName"],
        "abc123.execute-api.eu-west-1.amazonaws.com"
    );
    assert_eq!(context["stage"], "prod");

    let message = &received[2];
    assert_eq!(message.target, "/ws");
    assert_eq!(message.one("x-portside-websocket-event"), "MESSAGE");
    assert_eq!(message.one("x-portside-websocket-route"), "$default");
    assert_eq!(message.one("content-type"), "text/plain; charset=utf-8");
    assert_eq!(message.body, "{\"say\":\"hi\"}");
    assert_eq!(received[3].one("x-portside-websocket-event"), "DISCONNECT");
}

#[tokio::test]
async fn the_sample_websocket_events_are_served() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    for file in [
        "aws-lambda-rust-runtime/example-apigw-websocket-request.json",
        "aws-lambda-rust-runtime/example-apigw-websocket-request-without-method.json",
        "aws-lambda-rust-runtime/example-apigw-websocket-request-disconnect-route.json",
    ] {
        let result = result_json(&f.invoke(&sample(file)).await);
        assert_eq!(result["statusCode"], 200, "{file}");
        let echo: Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
        assert!(
            echo["target"].as_str().unwrap().starts_with("/websocket"),
            "{file}: {echo}"
        );
    }
}
