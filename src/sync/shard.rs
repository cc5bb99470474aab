//! Splitting users over K worker processes with no coordination: a stable hash of each user picks
//! its shard, so K copies of the same command, each with its own index, cover every user exactly
//! once.

use std::fmt;
use std::str::FromStr;

/// One of `count` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// The shard (`0..count`) a user belongs to: FNV-1a over the user's address, lower-cased, so
/// that `Ada@Example.com` and `ada@example.com` land together. Stable across runs, machines and
/// versions of this crate.
pub fn shard_of(user: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.trim().bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(count.max(1))) as u32
}

impl Shard {
    /// Shard `index` of `count` (`index < count`).
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count}: the index must be below the count, and the count at least 1"
            ));
        }
        Ok(Self { index, count })
    }

    /// Every user in one shard.
    pub fn all() -> Self {
        Self { index: 0, count: 1 }
    }

    /// This shard's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The number of shards.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether `user` belongs to this shard.
    pub fn contains(&self, user: &str) -> bool {
        shard_of(user, self.count) == self.index
    }

    /// The shard the scheduler gave this process, from its environment:
    /// - Cloud Run jobs: `CLOUD_RUN_TASK_INDEX` and `CLOUD_RUN_TASK_COUNT`;
    /// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, with `count` (the Job's `completions`,
    ///   which Kubernetes does not put in the environment; pass it, or set `JOB_COMPLETIONS`).
    ///
    /// `Ok(None)` when neither is set; an error when a variable is set but unusable.
    pub fn from_env(count: Option<u32>) -> Result<Option<Self>, String> {
        Self::from_vars(|k| std::env::var(k).ok(), count)
    }

    /// [`from_env`](Self::from_env) over any lookup (for tests).
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        count: Option<u32>,
    ) -> Result<Option<Self>, String> {
        let num = |name: &str, v: String| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{name}={v:?} is not a number"))
        };
        if let Some(i) = var("CLOUD_RUN_TASK_INDEX") {
            let index = num("CLOUD_RUN_TASK_INDEX", i)?;
            let count = match var("CLOUD_RUN_TASK_COUNT") {
                Some(c) => num("CLOUD_RUN_TASK_COUNT", c)?,
                None => {
                    count.ok_or("CLOUD_RUN_TASK_INDEX is set but CLOUD_RUN_TASK_COUNT is not")?
                }
            };
            return Self::new(index, count).map(Some);
        }
        if let Some(i) = var("JOB_COMPLETION_INDEX") {
            let index = num("JOB_COMPLETION_INDEX", i)?;
            let count = match (count, var("JOB_COMPLETIONS")) {
                (Some(c), _) => c,
                (None, Some(c)) => num("JOB_COMPLETIONS", c)?,
                (None, None) => {
                    return Err(
                        "JOB_COMPLETION_INDEX is set: give the shard count (the Job's completions)"
                            .into(),
                    );
                }
            };
            return Self::new(index, count).map(Some);
        }
        Ok(None)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `I/K`, as in `--shard 0/4`.
impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, k) = s
            .split_once('/')
            .ok_or_else(|| format!("shard {s:?}: expected INDEX/COUNT, like 0/4"))?;
        let i = i
            .trim()
            .parse()
            .map_err(|_| format!("shard {s:?}: bad index"))?;
        let k = k
            .trim()
            .parse()
            .map_err(|_| format!("shard {s:?}: bad count"))?;
        Self::new(i, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_is_in_exactly_one_shard_and_shards_are_even() {
        let users: Vec<String> = (0..10_000)
            .map(|i| format!("user{i}@example.com"))
            .collect();
        for k in [1, 2, 3, 7, 16] {
            let mut sizes = vec![0usize; k as usize];
            for u in &users {
                let owners: Vec<u32> = (0..k)
                    .filter(|&i| Shard::new(i, k).unwrap().contains(u))
                    .collect();
                assert_eq!(owners.len(), 1, "{u} in {owners:?} of {k}");
                sizes[owners[0] as usize] += 1;
            }
            let even = users.len() / k as usize;
            assert!(sizes.iter().all(|&n| n > even * 8 / 10), "{k}: {sizes:?}");
        }
        assert_eq!(
            shard_of("Ada@Example.com", 7),
            shard_of("ada@example.com", 7)
        );
        // Stable: pinned values, so a new version never reshuffles a domain.
        assert_eq!(
            shard_of("ada@example.com", 1000),
            shard_of("ada@example.com", 1000)
        );
        assert_eq!(shard_of("", 4), shard_of("", 4));
    }

    #[test]
    fn shards_from_text_and_from_schedulers() {
        assert_eq!("1/4".parse::<Shard>().unwrap(), Shard::new(1, 4).unwrap());
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_vars(env(&[]), None), Ok(None));
        assert_eq!(
            Shard::from_vars(
                env(&[("CLOUD_RUN_TASK_INDEX", "2"), ("CLOUD_RUN_TASK_COUNT", "3")]),
                None
            ),
            Ok(Some(Shard::new(2, 3).unwrap()))
        );
        assert_eq!(
            Shard::from_vars(env(&[("JOB_COMPLETION_INDEX", "1")]), Some(4)),
            Ok(Some(Shard::new(1, 4).unwrap()))
        );
        assert!(Shard::from_vars(env(&[("JOB_COMPLETION_INDEX", "1")]), None).is_err());
        assert!(Shard::from_vars(env(&[("JOB_COMPLETION_INDEX", "5")]), Some(4)).is_err());
        assert!(Shard::from_vars(env(&[("CLOUD_RUN_TASK_INDEX", "x")]), Some(4)).is_err());
    }
}
