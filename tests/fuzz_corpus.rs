//! The fuzz bodies of `src/fuzzing.rs` on stable Rust: every kept input (seeds, the
//! corpus `scripts/fuzz` grew, and every crash it ever found) is replayed, then random
//! mutations of the seeds. Each body checks a property, not only "no panic".

use std::path::{Path, PathBuf};

type Body = fn(&[u8]);

const TARGETS: [(&str, Body); 4] = [
    ("framer", xft::fuzzing::framer),
    ("stanzas", xft::fuzzing::stanzas),
    ("socks5", xft::fuzzing::socks5),
    ("scram", xft::fuzzing::scram),
];

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for kind in ["seeds", "corpus", "regressions"] {
        if let Ok(dir) = std::fs::read_dir(root.join(kind).join(target)) {
            files.extend(dir.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    files.sort();
    files
}

#[test]
fn kept_inputs_still_pass() {
    for (target, body) in TARGETS {
        let files = inputs(target);
        assert!(!files.is_empty(), "no seeds for {target}");
        for file in files {
            // A running `scripts/fuzz` may be merging the corpus meanwhile.
            let Ok(data) = std::fs::read(&file) else {
                continue;
            };
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
        }
    }
}

/// xorshift: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte flips, insertions, deletions and splices of the seeds: a poor man's fuzzer
/// that runs in every test run.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if at < data.len() => {
                data.remove(at);
            }
            3 => {
                let from = rng.below(other.len());
                let len = rng.below(other.len() - from + 1).min(64);
                data.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                let interesting: &[&[u8]] = &[
                    b"<", b">", b"/>", b"'", b"&", b"&#0;", b"\xff", b"\x00", b"]]>",
                ];
                data.splice(
                    at..at,
                    interesting[rng.below(interesting.len())].iter().copied(),
                );
            }
        }
    }
    data
}

#[test]
fn random_mutations_of_the_seeds_pass() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (target, body) in TARGETS {
        let seeds: Vec<Vec<u8>> = inputs(target)
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .collect();
        for _ in 0..3000 {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            let data = mutate(&mut rng, seed, other);
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(
                outcome.is_ok(),
                "{target}: input {:?} fails",
                String::from_utf8_lossy(&data)
            );
        }
    }
}
