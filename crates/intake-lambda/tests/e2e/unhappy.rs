//! The unhappy paths as deployed: a batch with a poison message reports only that message, which
//! reaches the dead-letter queue after the redrive policy's receives; an OCR timeout inside the
//! function is reported, put off by a back-off, and read when it comes back.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::flow::{Api, render};
use super::runtime::{Function, Outcome};
use super::sources::{QueueSource, receive};
use super::stack::Stack;

/// An upload's notification and a poison message in one batch: only the poison message is
/// reported; it comes back until the redrive policy moves it to the dead-letter queue.
pub(crate) async fn a_batch_reports_only_its_poison_message(
    stack: &Stack,
    uploads: &QueueSource,
    processor: &mut Function,
    api: &mut Api,
) {
    let second = render(&["RECEIPT 2231"]);
    let good = api.upload("receipt.png", &second).await;
    let poison_body = "{\"not\": \"an S3 notification\"}";
    let poison = uploads.send(poison_body).await;
    let messages = uploads.receive(1).await;
    assert_eq!(
        messages.len(),
        2,
        "the upload's notification and the poison message: {messages:?}"
    );
    let batch = uploads.deliver(processor, messages).await;
    assert_eq!(
        batch.failed,
        [poison.as_str()],
        "only the poison message is reported: {batch:?}"
    );
    assert_eq!(api.image(&good).await["status"], "PROCESSED");

    // 3. The poison message is delivered `maxReceiveCount` times, then lands in the dead-letter queue.
    let redrive = &stack.template.properties("ProcessingQueue").unwrap()["RedrivePolicy"];
    let max_receives = redrive["maxReceiveCount"].as_u64().unwrap();
    let (dlq_url, dlq_arn) = stack.queue("DeadLetterQueue");
    assert_eq!(redrive["deadLetterTargetArn"], dlq_arn.as_str());
    let mut deliveries = 1;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(batch) = uploads
            .run_once(processor, super::stack::VISIBILITY_IN_TEST + 1)
            .await
        else {
            if super::sources::visible(&stack.endpoint, &dlq_url).await > 0 {
                break;
            }
            continue;
        };
        assert_eq!(batch.ids(), [poison.as_str()]);
        assert_eq!(batch.failed, [poison.as_str()]);
        deliveries += 1;
    }
    let dead = receive(&stack.endpoint, &dlq_url, 10, 1).await;
    assert_eq!(
        dead.len(),
        1,
        "the poison message is in the dead-letter queue"
    );
    assert_eq!(dead[0]["Body"], poison_body);
    assert_eq!(
        deliveries, max_receives,
        "delivered as often as the redrive policy allows"
    );
}

/// A second processor, the template's with a one-second OCR time limit (the one setting the test
/// adds), meets a page it cannot read in time: the message is reported, and its next delivery put
/// off by the back-off (longer than the queue's visibility timeout); redelivered, the template's
/// processor reads it.
pub(crate) async fn ocr_timeout_is_retried_with_back_off(
    stack: &Stack,
    models: &Path,
    uploads: &QueueSource,
    processor: &mut Function,
    api: &mut Api,
) {
    let mut hurried = super::start(
        stack,
        "ProcessorFunction",
        "processor",
        models,
        &[("INTAKE_OCR_TIMEOUT_SECONDS", "1")],
    )
    .await;
    // 120 lines: seconds of PP-OCR on this machine, well past the one-second limit on a faster one.
    let lines: Vec<String> = (0..120)
        .map(|i| format!("Line {i:02}: delivery note 58{i:02} for order A-{i:03}7"))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let page = render(&lines);
    let id = api.upload("delivery-notes.png", &page).await;
    let batch = uploads
        .run_once(&mut hurried, 1)
        .await
        .expect("the upload's notification");
    assert!(matches!(batch.outcome, Outcome::Response(_)), "{batch:?}");
    assert_eq!(
        batch.failed,
        batch.ids(),
        "the timed-out message is reported: {}",
        hurried.log_tail()
    );
    let failed_at = Instant::now();
    let back_off = |l: &str| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|l| l["fields"]["message"] == "next delivery put off")
    };
    let put_off: Value = hurried
        .wait_for_log(Duration::from_secs(10), back_off)
        .await
        .and_then(|l| serde_json::from_str(&l).ok())
        .unwrap_or_else(|| panic!("no back-off in the logs: {}", hurried.log_tail()));
    let logs = hurried.logs();
    let delay = put_off["fields"]["delay_seconds"].as_u64().unwrap();
    assert!(
        (5..=10).contains(&delay),
        "the first back-off is 5-10 s: {put_off}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("OCR_TIMEOUT") || l.contains("timed out")),
        "the failure was the OCR time limit: {}",
        hurried.log_tail()
    );
    drop(hurried);
    // Nothing comes back within the queue's visibility timeout: the back-off holds it.
    let again = loop {
        let messages = uploads.receive(1).await;
        if !messages.is_empty() {
            break messages;
        }
        assert!(
            failed_at.elapsed() < Duration::from_secs(30),
            "the message never came back"
        );
    };
    let waited = failed_at.elapsed();
    assert!(
        waited + Duration::from_millis(500) >= Duration::from_secs(delay),
        "redelivered after {waited:?}, before its back-off of {delay} s"
    );
    assert_eq!(again[0]["Attributes"]["ApproximateReceiveCount"], "2");
    let batch = uploads.deliver(processor, again).await;
    assert!(batch.failed.is_empty(), "{batch:?}");
    let image = api.image(&id).await;
    assert_eq!(image["status"], "PROCESSED", "{image}");
    assert!(
        image["ocrText"].as_str().unwrap().contains("delivery note"),
        "{image}"
    );
}
