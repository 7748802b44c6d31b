//! `scripts/bench`: throughput of xft's bytestreams through throwaway Prosody servers,
//! as ratios to a plain TCP copy over loopback measured in the same run.
//!
//! Environment:
//! * `XFT_BENCH_IBB_MIB` (default 64): file size for the IBB matrix.
//! * `XFT_BENCH_SECTIONS` (default "ibb"): comma-separated sections to run.
//!
//! Everything stays on 127.0.0.1. Files are written to /dev/shm (tmpfs) when it exists.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Account, Prosody, Receiver};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn work_dir() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("xft-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

/// Writes `mib` MiB of pseudo-random data in 1 MiB pieces (no large allocation).
fn make_file(path: &Path, mib: usize) {
    let mut f = std::fs::File::create(path).expect("create sample");
    for i in 0..mib {
        f.write_all(&support::pattern(1 << 20, i as u64 + 1))
            .expect("write sample");
    }
}

/// The baseline: the same bytes from file to file through one loopback TCP connection,
/// with 1 MiB buffers. Returns bytes per second.
fn tcp_copy(file: &Path, out_dir: &Path) -> f64 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let out = out_dir.join("tcp-copy.out");
    let out_for_thread = out.clone();
    let reader = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().expect("accept");
        let mut sink = std::fs::File::create(&out_for_thread).expect("sink");
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = sock.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            sink.write_all(&buf[..n]).expect("write");
        }
    });
    let started = Instant::now();
    let mut sock = std::net::TcpStream::connect(addr).expect("connect");
    let mut src = std::fs::File::open(file).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = src.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        sock.write_all(&buf[..n]).expect("send");
        total += n as u64;
    }
    drop(sock);
    reader.join().expect("reader");
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(out);
    rate
}

/// One measured transfer.
struct Run {
    bytes_per_sec: f64,
}

/// Sends `file` from alice to bob's `xft recv` with `extra` send arguments.
fn transfer(
    server: &Prosody,
    alice: &Account,
    bob: &Account,
    file: &Path,
    out_dir: &Path,
    extra: &[&str],
) -> Run {
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).expect("out dir");
    let mut recv = server.xft(bob);
    recv.args(["recv", "--accept-any", "-q", "--dir"])
        .arg(out_dir);
    let receiver = Receiver::spawn(recv);
    let mut send = server.xft(alice);
    send.args(["send", "--json"])
        .args(extra)
        .arg(file)
        .arg(&receiver.jid);
    let out = send.output().expect("run xft send");
    let done = receiver.finish(Duration::from_secs(3600));
    assert!(
        out.status.success(),
        "send failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(done.code, Some(0), "recv failed: {}", done.stderr);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let _ = std::fs::remove_dir_all(out_dir);
    Run {
        bytes_per_sec: report["bytes_per_sec"].as_f64().unwrap_or(0.0),
    }
}

fn mb(rate: f64) -> String {
    format!("{:.1}", rate / 1e6)
}

fn ibb_matrix(work: &Path, baseline: f64) {
    let mib = env_usize("XFT_BENCH_IBB_MIB", 64);
    let file = work.join("ibb.bin");
    make_file(&file, mib);
    println!("\n## IBB through Prosody ({mib} MiB file, MB/s and ratio to the TCP copy)");
    println!("| server | block | window | MB/s | ratio |");
    println!("|---|---|---|---|---|");
    for (label, server) in [
        ("stock", support::server()),
        ("tuned", support::tuned_server()),
    ] {
        let (alice, bob) = (server.account("alice"), server.account("bob"));
        for block in [4096usize, 16384, 65535] {
            for window in [1usize, 4, 16, 64] {
                let args = [
                    "--method",
                    "ibb",
                    "--block-size",
                    &block.to_string(),
                    "--window",
                    &window.to_string(),
                ]
                .map(String::from);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let run = transfer(server, &alice, &bob, &file, &work.join("in"), &args);
                println!(
                    "| {label} | {block} | {window} | {} | {:.4} |",
                    mb(run.bytes_per_sec),
                    run.bytes_per_sec / baseline
                );
            }
        }
    }
    let _ = std::fs::remove_file(file);
}

fn main() {
    let work = work_dir();
    let sections = std::env::var("XFT_BENCH_SECTIONS").unwrap_or_else(|_| "ibb".into());
    let baseline_file = work.join("baseline.bin");
    make_file(&baseline_file, 256);
    let baseline = tcp_copy(&baseline_file, &work);
    let _ = std::fs::remove_file(&baseline_file);
    println!("# xft benchmark ({})", chrono_free_now());
    println!(
        "Baseline: plain TCP copy over loopback, file to file, 1 MiB buffers: {} MB/s",
        mb(baseline)
    );
    println!("Servers: 'stock' = Prosody 0.12 with its default network settings;");
    println!(
        "'tuned' = network_settings {{ nagle = false; read_size = 262144; min_wait = 0.00001 }}."
    );
    println!(
        "Rates are the sender's bytes/second from offer acceptance to the end (login excluded)."
    );
    for section in sections.split(',') {
        match section.trim() {
            "ibb" => ibb_matrix(&work, baseline),
            other => eprintln!("unknown section '{other}'"),
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}

fn chrono_free_now() -> String {
    let out = std::process::Command::new("date").arg("-u").output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
