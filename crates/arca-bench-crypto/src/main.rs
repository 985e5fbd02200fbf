//! The key provider's own cost per operation, the physical limit the keys API is measured
//! against: one thread (`bench/run` pins it to the servers' core), keys generated in memory, and
//! for each of the benchmark's key workloads (ES256 sign, PS256 sign, RSA-OAEP-256 decrypt,
//! A256KW wrap of a 32-byte key) `--rounds` rounds of timed calls through `arca_crypto::keys`
//! exactly as the engine makes them, reporting the median (and range) of the rounds' mean
//! nanoseconds per operation. It also times `PrivateKey::from_storage` of each key, which is
//! what the engine pays per operation to parse a sealed key once it is opened. Prints one JSON
//! document. For `bench/run` only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use arca_crypto::keys::{
    Curve, EncryptionAlgorithm, PrivateKey, SignatureAlgorithm, SymmetricParams, WrapAlgorithm,
};
use serde_json::{json, Value};

/// The workloads, by the names `bench/run --workloads` gives them.
const WORKLOADS: [&str; 4] = ["sign-es256", "sign-ps256", "decrypt-oaep256", "wrap-a256"];

struct Options {
    rounds: usize,
    round_millis: u64,
    only: Vec<String>,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options {
        rounds: 7,
        round_millis: 500,
        only: WORKLOADS.iter().map(|w| (*w).to_owned()).collect(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => options.rounds = value()?.parse().context("--rounds")?,
            "--round-millis" => {
                options.round_millis = value()?.parse().context("--round-millis")?
            }
            "--workloads" => {
                options.only = value()?.split(',').map(str::to_owned).collect();
            }
            "--help" | "-h" => {
                println!(
                    "arca-bench-crypto [--rounds N (7)] [--round-millis MS (500)] \
                     [--workloads {}]",
                    WORKLOADS.join(",")
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if !(1..=1000).contains(&options.rounds) || !(1..=60_000).contains(&options.round_millis) {
        bail!("--rounds must be 1..=1000 and --round-millis 1..=60000");
    }
    if let Some(bad) = options
        .only
        .iter()
        .find(|w| !WORKLOADS.contains(&w.as_str()))
    {
        bail!("unknown workload {bad}");
    }
    Ok(options)
}

/// Median and range of `rounds` rounds, each the mean time of as many calls of `op` as fit in
/// `round`; one untimed round first warms caches and the CPU's frequency.
fn time_op(rounds: usize, round: Duration, mut op: impl FnMut()) -> Value {
    let mut one_round = || {
        let start = Instant::now();
        let mut calls = 0u64;
        // Check the clock every few calls only: the cheapest operation takes about a microsecond.
        while start.elapsed() < round {
            for _ in 0..8 {
                op();
            }
            calls += 8;
        }
        (start.elapsed().as_nanos() as f64 / calls as f64, calls)
    };
    one_round();
    let mut means = Vec::with_capacity(rounds);
    let mut total_calls = 0;
    for _ in 0..rounds {
        let (mean, calls) = one_round();
        means.push(mean);
        total_calls += calls;
    }
    means.sort_by(f64::total_cmp);
    let median = if means.len() % 2 == 1 {
        means[means.len() / 2]
    } else {
        (means[means.len() / 2 - 1] + means[means.len() / 2]) / 2.0
    };
    json!({
        "ns_per_op": median,
        "min_ns": means.first().copied(),
        "max_ns": means.last().copied(),
        "rounds": rounds,
        "calls": total_calls,
    })
}

/// One call of a workload's operation on its key; whether it succeeded.
type Operation = Box<dyn Fn(&PrivateKey) -> bool>;

/// The key a workload uses, and the operation on it that the engine performs.
fn workload(name: &str) -> anyhow::Result<(PrivateKey, Operation)> {
    let failed = |what: &str| anyhow!("{name}: {what} failed");
    let digest = [0x5au8; 32];
    let none = SymmetricParams::default();
    Ok(match name {
        "sign-es256" => (
            PrivateKey::generate_ec(Curve::P256).map_err(|_| failed("generate"))?,
            Box::new(move |key: &PrivateKey| {
                let signature = key.sign_digest(SignatureAlgorithm::Es256, black_box(&digest));
                black_box(signature).is_ok()
            }),
        ),
        "sign-ps256" => (
            PrivateKey::generate_rsa(2048).map_err(|_| failed("generate"))?,
            Box::new(move |key: &PrivateKey| {
                let signature = key.sign_digest(SignatureAlgorithm::Ps256, black_box(&digest));
                black_box(signature).is_ok()
            }),
        ),
        "decrypt-oaep256" => {
            let key = PrivateKey::generate_rsa(2048).map_err(|_| failed("generate"))?;
            let public = key.public_key().ok_or_else(|| failed("public key"))?;
            let ciphertext = public
                .encrypt(EncryptionAlgorithm::RsaOaep256, &[0x33; 32])
                .map_err(|_| failed("encrypt"))?;
            (
                key,
                Box::new(move |key: &PrivateKey| {
                    let plain = key.decrypt(
                        EncryptionAlgorithm::RsaOaep256,
                        black_box(&ciphertext),
                        &none,
                    );
                    black_box(plain).is_ok()
                }),
            )
        }
        "wrap-a256" => (
            PrivateKey::generate_oct(256).map_err(|_| failed("generate"))?,
            Box::new(move |key: &PrivateKey| {
                let wrapped = key.wrap_key(WrapAlgorithm::A256Kw, black_box(&[0x44; 32]));
                black_box(wrapped).is_ok()
            }),
        ),
        _ => bail!("unknown workload {name}"),
    })
}

fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    let round = Duration::from_millis(options.round_millis);
    let mut results = serde_json::Map::new();
    for name in &options.only {
        let (key, op) = workload(name)?;
        // One call first: a workload that fails must not be timed as if it worked.
        let stored = key
            .to_storage()
            .map_err(|_| anyhow!("{name}: to_storage failed"))?;
        if !op(&key) {
            bail!("{name}: the operation failed");
        }
        let operation = time_op(options.rounds, round, || {
            black_box(op(&key));
        });
        let parse = time_op(options.rounds, round, || {
            black_box(PrivateKey::from_storage(black_box(stored.expose())).is_ok());
        });
        results.insert(
            name.clone(),
            json!({ "operation": operation, "parse_stored_key": parse }),
        );
    }
    let report = json!({
        "provider": "arca_crypto::keys (aws-lc-rs)",
        "threads": 1,
        "round_millis": options.round_millis,
        "workloads": results,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
