//! The process's own series (R62), read from `/proc/self` on each scrape, named as
//! Prometheus's client libraries name them so that standard dashboards work. Elsewhere than
//! Linux nothing is reported.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The kernel reports CPU times in USER_HZ ticks, which is 100 on every architecture
/// Linux exposes it for (it is fixed for user space, unlike the kernel's HZ).
const USER_HZ: f64 = 100.0;

#[derive(Debug)]
pub struct ProcessCollector {
    /// Seconds since the epoch when this process's metrics began: its start, near enough.
    started_at: f64,
}

impl ProcessCollector {
    pub fn new() -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        ProcessCollector { started_at }
    }
}

/// What `/proc/self` says now; `None` for what could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct Sample {
    pub resident_bytes: Option<i64>,
    pub virtual_bytes: Option<i64>,
    pub threads: Option<i64>,
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<i64>,
}

impl Sample {
    pub fn read() -> Sample {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = |field: &str| field_of(&status, field).map(|kb| kb * 1024);
        Sample {
            resident_bytes: kib("VmRSS:"),
            virtual_bytes: kib("VmSize:"),
            threads: field_of(&status, "Threads:"),
            cpu_seconds: std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| cpu_of(&s)),
            open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as i64),
        }
    }
}

/// The number after `name` in `/proc/self/status` (`VmRSS:   35120 kB`).
fn field_of(status: &str, name: &str) -> Option<i64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User plus system time from `/proc/self/stat`: fields 14 and 15, counted after the
/// command name, which is parenthesised and may itself hold spaces.
fn cpu_of(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / USER_HZ)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = Sample::read();
        let mut gauge = |name: &str, help: &str, value: Option<i64>| {
            let Some(value) = value else { return Ok(()) };
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
        };
        gauge("process_resident_memory_bytes", "Resident memory", now.resident_bytes)?;
        gauge("process_virtual_memory_bytes", "Virtual memory", now.virtual_bytes)?;
        gauge("process_threads", "Operating-system threads", now.threads)?;
        gauge("process_open_fds", "Open file descriptors", now.open_fds)?;
        let start = ConstGauge::new(self.started_at);
        start.encode(encoder.encode_descriptor(
            "process_start_time_seconds",
            "When the process started, in seconds since the epoch",
            None,
            start.metric_type(),
        )?)?;
        if let Some(cpu) = now.cpu_seconds {
            let cpu = ConstCounter::new(cpu);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time spent",
                None,
                cpu.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r62_cpu_time_is_read_after_a_command_name_with_spaces() {
        let stat = "4242 (deputy (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(cpu_of(stat), Some(3.0));
    }

    #[test]
    fn r62_status_fields_are_numbers_in_their_units() {
        let status = "Name:\tdeputy\nVmSize:\t  123456 kB\nVmRSS:\t   35120 kB\nThreads:\t9\n";
        assert_eq!(field_of(status, "VmRSS:"), Some(35_120));
        assert_eq!(field_of(status, "Threads:"), Some(9));
        assert_eq!(field_of(status, "VmSwap:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn r62_this_process_is_sampled() {
        let now = Sample::read();
        assert!(now.resident_bytes.is_some_and(|b| b > 0), "{now:?}");
        assert!(now.open_fds.is_some_and(|n| n >= 3), "{now:?}");
        assert!(now.cpu_seconds.is_some(), "{now:?}");
    }
}
