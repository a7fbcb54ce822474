//! Lambda's platform lines around each invocation, as CloudWatch Logs shows
//! them for a function with the text log format:
//!
//! ```text
//! START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST
//! END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95
//! REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 12.34 ms\tBilled Duration: 93 ms\tMemory Size: 512 MB\tMax Memory Used: 48 MB\tInit Duration: 80.12 ms
//! ```
//!
//! The REPORT fields are separated by tabs (`\t` above). `Init Duration` is
//! there only on the first invocation of an execution environment (a cold
//! start); `Status: timeout` ends the line of an invocation the function
//! timeout ended. `Billed Duration` is the duration rounded up to the next millisecond,
//! with the init added on a cold start: Lambda bills the INIT phase of every
//! on-demand function since August 2025.
//!
//! Text only: the sandbox measures and decides when to print.

use std::time::Duration;

/// What a REPORT line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report<'a> {
    /// The invocation's request id.
    pub request_id: &'a str,
    /// From the event reaching the runtime to its result.
    pub duration: Duration,
    /// The function's memory setting, in MB.
    pub memory_size_mb: u32,
    /// The most memory the environment's processes used, in KiB.
    pub max_memory_used_kib: u64,
    /// How long init took, on a cold start's first invocation.
    pub init_duration: Option<Duration>,
    /// The function timeout ended it (`Status: timeout`).
    pub timed_out: bool,
}

/// `START RequestId: ID Version: VERSION`.
pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// `END RequestId: ID`.
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// The REPORT line.
pub fn report_line(r: &Report<'_>) -> String {
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
        r.request_id,
        millis(r.duration),
        billed_ms(r.duration, r.init_duration),
        r.memory_size_mb,
        r.max_memory_used_kib.div_ceil(1024),
    );
    if let Some(init) = r.init_duration {
        line.push_str(&format!("\tInit Duration: {} ms", millis(init)));
    }
    if r.timed_out {
        line.push_str("\tStatus: timeout");
    }
    line
}

/// Milliseconds with two decimals (`12.34`).
fn millis(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// The billed milliseconds: the duration (plus the init, when there is one)
/// rounded up to the next whole millisecond, at least 1.
pub fn billed_ms(duration: Duration, init: Option<Duration>) -> u64 {
    let total = duration + init.unwrap_or_default();
    let micros = u64::try_from(total.as_micros()).unwrap_or(u64::MAX);
    micros.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_the_millisecond_and_adds_the_init() {
        assert_eq!(billed_ms(Duration::from_micros(12_340), None), 13);
        assert_eq!(billed_ms(Duration::from_millis(12), None), 12);
        assert_eq!(billed_ms(Duration::from_micros(1), None), 1);
        assert_eq!(billed_ms(Duration::ZERO, None), 1);
        assert_eq!(
            billed_ms(
                Duration::from_micros(12_340),
                Some(Duration::from_micros(80_120))
            ),
            93
        );
    }

    #[test]
    fn lines_have_lambdas_words_and_tabs() {
        let id = "8f507cfc-xmpl-4697-b07a-ac58fc914c95";
        assert_eq!(
            start_line(id, "$LATEST"),
            "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST"
        );
        assert_eq!(
            end_line(id),
            "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95"
        );
        let mut r = Report {
            request_id: id,
            duration: Duration::from_micros(12_340),
            memory_size_mb: 512,
            max_memory_used_kib: 48 * 1024,
            init_duration: Some(Duration::from_micros(80_120)),
            timed_out: false,
        };
        assert_eq!(
            report_line(&r),
            "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 12.34 ms\tBilled Duration: 93 ms\tMemory Size: 512 MB\tMax Memory Used: 48 MB\tInit Duration: 80.12 ms"
        );
        r.init_duration = None;
        r.max_memory_used_kib = 48 * 1024 + 1;
        assert_eq!(
            report_line(&r),
            "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 49 MB"
        );
        r.timed_out = true;
        assert!(report_line(&r).ends_with("\tMax Memory Used: 49 MB\tStatus: timeout"));
    }
}
