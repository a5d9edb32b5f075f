//! Small formatting of values for people (durations), shared by every layer's messages.

use std::time::Duration;

/// 850 ms, 3.2 s, 2 m 5 s: short and exact enough for an operator.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        let s = d.as_secs_f64();
        if s < 10.0 {
            format!("{s:.1} s")
        } else {
            format!("{} s", d.as_secs())
        }
    } else {
        format!("{} m {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(human_duration(Duration::from_millis(3240)), "3.2 s");
        assert_eq!(human_duration(Duration::from_secs(42)), "42 s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 m 5 s");
    }
}
