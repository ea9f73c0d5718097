//! Every random choice of a simulation, made deterministic by `--seed`: each is a stable hash
//! of the seed, the device's index and what is being decided, so the same flags give the same
//! jitter and the same failing devices on every run, whatever the scheduling.

use std::time::Duration;

/// SplitMix64's finaliser: a well-mixed 64-bit hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over text, to fold names (release IDs) into a hash.
fn fold_text(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A number in `[0, 1)` from 53 bits of `hash`.
fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// One device's stream of choices.
#[derive(Debug, Clone)]
pub struct DeviceChoices {
    seed: u64,
    device: u64,
    /// Advances with every jitter drawn, so successive intervals differ.
    draws: u64,
}

impl DeviceChoices {
    pub fn new(seed: u64, device: usize) -> Self {
        DeviceChoices {
            seed,
            device: device as u64,
            draws: 0,
        }
    }

    fn key(&self, what: u64) -> u64 {
        mix(mix(mix(self.seed) ^ self.device) ^ what)
    }

    /// When the first check-in happens: anywhere in `[0, interval)`, so devices started
    /// together do not all arrive at once.
    pub fn first_delay(&self, interval: Duration) -> Duration {
        interval.mul_f64(unit(self.key(0x0066_6972_7374)))
    }

    /// The next interval, within ±10% of `interval`.
    pub fn next_interval(&mut self, interval: Duration) -> Duration {
        self.draws += 1;
        let u = unit(self.key(0x6a69_7474_6572 ^ mix(self.draws)));
        interval.mul_f64(0.9 + 0.2 * u)
    }

    /// Whether installing `release` fails on this device: true for a `rate` share of devices
    /// (0.0 none, 1.0 all), the same share of each release.
    pub fn install_fails(&self, release: &str, rate: f64) -> bool {
        rate > 0.0 && unit(self.key(fold_text(release))) < rate
    }
}

#[cfg(test)]
mod tests {
    use super::DeviceChoices;
    use std::time::Duration;

    #[test]
    fn the_same_seed_gives_the_same_choices_and_another_seed_others() {
        let interval = Duration::from_secs(30);
        let delays = |seed| -> Vec<Duration> {
            (0..50)
                .map(|d| DeviceChoices::new(seed, d).first_delay(interval))
                .collect()
        };
        assert_eq!(delays(7), delays(7));
        assert_ne!(delays(7), delays(8));
        assert!(delays(7).iter().all(|d| *d < interval));
    }

    #[test]
    fn intervals_stay_within_ten_percent() {
        let mut choices = DeviceChoices::new(1, 3);
        let interval = Duration::from_secs(10);
        for _ in 0..1000 {
            let next = choices.next_interval(interval);
            assert!(
                next >= Duration::from_secs(9) && next <= Duration::from_secs(11),
                "{next:?}"
            );
        }
    }

    #[test]
    fn the_fail_rate_picks_about_that_share_and_its_extremes_exactly() {
        let failing = |rate| {
            (0..10_000)
                .filter(|d| DeviceChoices::new(42, *d).install_fails("rel_1", rate))
                .count()
        };
        assert_eq!(failing(0.0), 0);
        assert_eq!(failing(1.0), 10_000);
        let share = failing(0.05);
        assert!((400..=600).contains(&share), "{share} of 10,000 at 5%");
        // The same devices fail on every run.
        assert_eq!(failing(0.05), share);
    }
}
