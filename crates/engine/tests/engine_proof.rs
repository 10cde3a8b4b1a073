//! S18, engine side: a real engine (the binary, started detached) answers a
//! `/health` challenge with a proof that verifies with its home's token and
//! its own port, and with nothing else.

mod support;

use agentsecrets_wire::{headers as h, proof};
use serde_json::Value;
use support::Home;

/// `GET /health` with `challenge`: (status, proof header, body).
fn health(port: u16, challenge: Option<&str>) -> (u16, Option<String>, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{port}/health"));
        if let Some(c) = challenge {
            rb = rb.header(h::CHALLENGE, c);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let proof = res
            .headers()
            .get(h::PROOF)
            .map(|v| v.to_str().unwrap().to_owned());
        (
            status,
            proof,
            serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
        )
    })
}

#[test]
fn s18_health_answers_a_challenge_with_a_proof_of_this_homes_token_and_port() {
    let home = Home::new();
    let engine = home.start_proxy();
    let challenge = proof::new_challenge().unwrap();
    let (status, given, body) = health(engine.port, Some(&challenge));
    assert_eq!(status, 200);
    let given = given.expect("the engine answers a challenge with a proof");
    assert!(body["features"]
        .as_array()
        .unwrap()
        .contains(&Value::from("engine-proof")));
    assert!(proof::verify(
        &engine.token,
        &challenge,
        engine.port,
        &given
    ));
    // The proof of another token (another home's engine) does not verify,
    // nor does it for another port (a relay) or a replayed challenge.
    let other = Home::new();
    let other_engine = other.start_proxy();
    let (_, other_proof, _) = health(other_engine.port, Some(&challenge));
    let other_proof = other_proof.unwrap();
    assert!(proof::verify(
        &other_engine.token,
        &challenge,
        other_engine.port,
        &other_proof
    ));
    assert!(!proof::verify(
        &engine.token,
        &challenge,
        other_engine.port,
        &other_proof
    ));
    assert!(!proof::verify(
        &engine.token,
        &challenge,
        engine.port,
        &other_proof
    ));
    assert!(!proof::verify(
        &engine.token,
        &challenge,
        engine.port + 1,
        &given
    ));
    let fresh = proof::new_challenge().unwrap();
    assert!(!proof::verify(&engine.token, &fresh, engine.port, &given));
    // The token itself never appears in the answer.
    assert!(!given.contains(&engine.token));
    assert!(!body.to_string().contains(&engine.token));
}

#[test]
fn s18_health_without_a_challenge_has_no_proof_and_a_malformed_one_is_refused() {
    let home = Home::new();
    let engine = home.start_proxy();
    let (status, given, _) = health(engine.port, None);
    assert_eq!(status, 200);
    assert_eq!(given, None);
    for bad in ["", "00", &"g".repeat(64), &"0".repeat(66)] {
        let (status, given, body) = health(engine.port, Some(bad));
        assert_eq!(status, 400, "{bad:?}");
        assert_eq!(given, None);
        assert_eq!(body["code"], "INVALID_REQUEST");
    }
}
