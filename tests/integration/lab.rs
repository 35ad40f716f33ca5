//! The lab for real: `pipelines/cd-starter.yml` builds the example service once as an image,
//! publishes it to a real registry on 127.0.0.1, and deploys it blue/green with HTTP health
//! checks, against the real Docker daemon. Each test has its own registry, ports and names, and
//! checks that nothing it started is left afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::lab_fixture::{Lab, Leftovers, PRODUCTION_TOKEN, STAGING_TOKEN};
use crate::test::all_output;

const SHA_A: &str = "aaaaaaaaaaaa1111111111111111111111111111";
const SHA_B: &str = "bbbbbbbbbbbb2222222222222222222222222222";

fn version(sha: &str) -> String {
    sha[..12].to_string()
}

fn nothing_left() -> Leftovers {
    Leftovers { containers: vec![], networks: vec![], registry_running: false }
}

#[test]
fn delivery_waits_at_production_then_ships_the_same_image_after_approval() {
    let Some(lab) = Lab::start("delivery", true) else { return };
    let out = lab.run(SHA_A, &[]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert_eq!(lab.healthy_version("staging"), Some(version(SHA_A)), "{text}");
    assert_eq!(lab.get("production", "/health"), None, "production is not deployed before the approval");
    assert!(text.contains(&format!("pulled {}/tasks-app@sha256:", lab.registry)), "{text}");
    // The runtime configuration and the environment's secret reach the release, not the logs.
    let (_, config) = lab.get("staging", "/config").unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        (config["environment"].as_str(), config["api_token_set"].as_bool()),
        (Some("staging"), Some(true))
    );

    let approve =
        lab.pipe(&["approve", "last", "--env", "production", "--as", "alice", "--comment", "ship it"]);
    assert!(approve.status.success(), "{}", all_output(&approve));
    let resume = lab.pipe(&["resume", "last"]);
    let resumed = all_output(&resume);
    assert_eq!(resume.status.code(), Some(0), "{resumed}");
    assert_eq!(lab.healthy_version("production"), Some(version(SHA_A)));
    let (status, tasks) = lab.get("production", "/tasks").unwrap();
    assert_eq!(status, 200);
    assert!(tasks.contains("\"environment\": \"production\""), "{tasks}");

    // Both environments run the image that was built and published once: the same digest.
    let ledger = lab.deployments();
    let digests: Vec<&str> = ledger.iter().map(|r| r["outputs"]["digest"].as_str().unwrap()).collect();
    assert_eq!(digests.len(), 2, "{ledger:?}");
    assert_eq!(digests[0], digests[1]);
    assert!(digests[0].starts_with(&format!("{}/tasks-app@sha256:", lab.registry)), "{digests:?}");
    assert_eq!(ledger[1]["environment"], "production");
    assert_eq!(ledger[1]["approved_by"], "alice");
    for secret in [STAGING_TOKEN, PRODUCTION_TOKEN] {
        assert!(!text.contains(secret) && !resumed.contains(secret), "a secret reached the output");
        let logs = all_output(&lab.pipe(&["logs", "last"]));
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert_eq!(lab.finish(), nothing_left());
}

#[test]
fn deployment_mode_ships_to_production_without_a_human() {
    let Some(lab) = Lab::start("deployment", true) else { return };
    let out = lab.run(SHA_A, &["--mode", "deployment"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("published {}/tasks-app:{}", lab.registry, version(SHA_A))), "{text}");
    for environment in ["staging", "production"] {
        assert_eq!(lab.healthy_version(environment), Some(version(SHA_A)), "{environment}");
    }
    let ledger = lab.deployments();
    assert_eq!(ledger[1]["environment"], "production");
    assert_eq!(ledger[1]["approved_by"], "auto");
    assert_eq!(lab.finish(), nothing_left());
}

#[test]
fn a_broken_release_reverts_itself_while_the_service_keeps_answering() {
    // pipe.toml without an approval for production: continuous deployment.
    let Some(lab) = Lab::start("broken", false) else { return };
    let good = lab.run(SHA_A, &[]);
    assert_eq!(good.status.code(), Some(0), "{}", all_output(&good));
    assert_eq!(lab.healthy_version("staging"), Some(version(SHA_A)));

    // Poll the stable endpoint during the broken deploy: every answer must be the good version.
    let stop = Arc::new(AtomicBool::new(false));
    let port = lab.staging_port;
    let poller = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                answers.push(crate::lab_fixture::http_get(port, "/health"));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            answers
        })
    };
    let broken = lab.run(SHA_B, &["--event", "workflow_dispatch", "--input", "break=true"]);
    stop.store(true, Ordering::Relaxed);
    let answers = poller.join().unwrap();
    let text = all_output(&broken);
    assert_eq!(broken.status.code(), Some(1), "{text}");
    assert!(text.contains("health check: 500"), "{text}");
    assert!(text.contains(&format!("kept the previous known-good release {}", version(SHA_A))), "{text}");
    assert!(answers.len() > 20, "the poll ran during the deploy: {} answers", answers.len());
    let expected = format!("{{\"status\": \"ok\", \"version\": \"{}\"}}", version(SHA_A));
    for answer in &answers {
        assert_eq!(answer.as_ref().map(|(s, b)| (*s, b.as_str())), Some((200, expected.as_str())));
    }
    assert_eq!(lab.healthy_version("staging"), Some(version(SHA_A)));
    assert_eq!(lab.healthy_version("production"), Some(version(SHA_A)), "production was never touched");

    // The ledger has the failed attempt, and the good version is still what runs.
    let ledger = lab.deployments();
    let staging: Vec<(&str, &str)> = ledger
        .iter()
        .filter(|r| r["environment"] == "staging")
        .map(|r| (r["result"].as_str().unwrap(), r["outputs"]["version"].as_str().unwrap()))
        .collect();
    assert_eq!(staging, [("success", version(SHA_A).as_str()), ("failure", version(SHA_B).as_str())]);
    let history = all_output(&lab.pipe(&["history", "staging"]));
    let current: Vec<&str> = history.lines().filter(|l| l.contains("← current")).collect();
    assert_eq!(current.len(), 1, "{history}");
    assert!(current[0].contains(&version(SHA_A)), "{history}");
    assert_eq!(lab.finish(), nothing_left());
}
