//! `scripts/bench`: throughput of xft's bytestreams through throwaway Prosody servers,
//! as ratios to a plain TCP copy over loopback measured in the same run.
//!
//! Environment:
//! * `XFT_BENCH_SECTIONS` (default "s5b,verified,jingle,latency,ibb"): comma-separated
//!   sections; "upload" and "slixmpp" (IBB against slixmpp 1.17 through the same server,
//!   using the venv the interop tests make in target/interop-venv) are not in it.
//! * `XFT_BENCH_BASELINE_BIN`: another build of xft (say, the last release) that the
//!   "verified" and "latency" sections also measure, alternating with this build.
//! * "parallel" (not in the default list): eight senders of 64 MiB at once to one
//!   `xft recv` against one sender of 512 MiB, whole time and the receiver's peak RSS.
//! * "encrypted" (not in the default list): `send --encrypt` (XEP-0454 in OMEMO)
//!   against `send --method upload` of `XFT_BENCH_UPLOAD_MIB` through a tuned Prosody
//!   with HTTPS slots, `XFT_BENCH_RUNS` (default 3) alternating runs, then the peak RSS
//!   of both sides for 1 GiB encrypted.
//! * "round-trips" (not in the default list): small commands through a relay that
//!   delays every chunk 25 ms each way, against go-sendxmpp when it is installed
//!   (examples/bench/round_trips.rs).
//! * "verified-file" (not in the default list): verified Jingle and SI transfers of
//!   `XFT_BENCH_S5B_MIB` (default 512 here) into a file on tmpfs and into /dev/null,
//!   this build against `XFT_BENCH_BASELINE_BIN`, median of `XFT_BENCH_RUNS` (default
//!   3), with one core's SHA-256 as the bound (examples/bench/verified_file.rs).
//! * `XFT_BENCH_IBB_MIB` (default 64): file size for the IBB matrix.
//! * `XFT_BENCH_S5B_MIB` (default 1024): file size for the S5B table.
//! * `XFT_BENCH_UPLOAD_MIB` (default 256): file size for the HTTP upload table, whose
//!   baseline is curl against the same service in the same run (section "upload", not
//!   in the default list: a PUT through a stock Prosody runs at a few MB/s).
//!
//! Everything stays on 127.0.0.1. Files are written to /dev/shm (tmpfs) when it exists.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "bench/round_trips.rs"]
mod round_trips;

#[path = "bench/verified_file.rs"]
mod verified_file;

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

/// The baseline: the same bytes from `file` through one loopback TCP connection into
/// `sink` (a file path, or /dev/null), with 1 MiB buffers. Returns bytes per second.
fn tcp_copy(file: &Path, sink: &Path) -> f64 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let sink_path = sink.to_owned();
    let reader = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().expect("accept");
        let mut sink = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&sink_path)
            .expect("sink");
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
    if sink != Path::new("/dev/null") {
        let _ = std::fs::remove_file(sink);
    }
    rate
}

/// The full JID an `xft recv --progress json` announces in its "ready" event on `stderr`
/// (read on, in the background, until the receiver exits).
fn ready_jid(stderr: std::process::ChildStderr) -> String {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["event"] == "ready" {
                    let _ = tx.send(v["jid"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("receiver ready")
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
    let sections = std::env::var("XFT_BENCH_SECTIONS")
        .unwrap_or_else(|_| "s5b,verified,jingle,latency,ibb".into());
    let baseline_file = work.join("baseline.bin");
    make_file(&baseline_file, 256);
    let baseline = tcp_copy(&baseline_file, &work.join("tcp-copy.out"));
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
            "s5b" => s5b_table(&work),
            "latency" => latency_table(&work),
            "verified" => verified_table(&work),
            "upload" => upload_table(&work),
            "jingle" => jingle_table(&work),
            "slixmpp" => slixmpp_ibb(&work),
            "memory" => memory_table(&work),
            "parallel" => parallel_table(&work),
            "encrypted" => encrypted_table(&work),
            "round-trips" => round_trips::round_trips_table(&work),
            "verified-file" => verified_file::verified_file_table(&work),
            other => eprintln!("unknown section '{other}'"),
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    WARM_HASH_CACHE.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = std::fs::remove_dir_all(sender_cache());
}

fn chrono_free_now() -> String {
    let out = std::process::Command::new("date").arg("-u").output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Exit code and peak resident set size (KiB) of a child, reaped with wait4(2).
fn wait_with_rusage(child: std::process::Child) -> (i32, i64) {
    let (code, rss, _) = wait_with_cpu(child);
    (code, rss)
}

/// Exit code, peak RSS (KiB) and CPU seconds (user + system) of a child.
fn wait_with_cpu(child: std::process::Child) -> (i32, i64, f64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain syscall on our own child's pid with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    if r != pid {
        return (-1, 0, 0.0);
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        code,
        usage.ru_maxrss,
        secs(usage.ru_utime) + secs(usage.ru_stime),
    )
}

/// A transfer measured on both sides.
struct Measured {
    /// From starting `xft send` to its exit (includes login and the MD5 pre-pass).
    sender_wall: f64,
    sender_rate: f64,
    receiver_rate: f64,
    sender_rss_kib: i64,
    receiver_rss_kib: i64,
    /// CPU seconds of both processes.
    cpu: f64,
    /// CPU seconds of the sender alone.
    sender_cpu: f64,
}

/// Sends `file` to a receiver writing to `dest` (a directory, or "/dev/null").
fn measured_transfer(
    server: &Prosody,
    alice: &Account,
    bob: &Account,
    file: &Path,
    dest: &Path,
    send_args: &[&str],
) -> Measured {
    measured_transfer_with(
        &support::xft_binary(),
        server,
        (alice, bob),
        file,
        dest,
        send_args,
    )
}

/// Whether the next measured sends may use the MD5s remembered by the earlier ones
/// (`$XDG_CACHE_HOME/xft/hashes.json`); otherwise each starts with an empty cache.
static WARM_HASH_CACHE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The senders' cache directory (see [`WARM_HASH_CACHE`]), emptied unless warm.
fn sender_cache() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xft-bench-cache-{}", std::process::id()));
    if !WARM_HASH_CACHE.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = std::fs::remove_dir_all(&dir);
    }
    dir
}

/// One transfer with the xft build `bin` on both sides.
fn measured_transfer_with(
    bin: &Path,
    server: &Prosody,
    (alice, bob): (&Account, &Account),
    file: &Path,
    dest: &Path,
    send_args: &[&str],
) -> Measured {
    use std::process::Stdio;
    let mut recv = server.xft_using(bin, bob);
    recv.args(["recv", "--accept-any", "--json", "--progress", "json"]);
    if dest == Path::new("/dev/null") {
        recv.args(["-o", "/dev/null"]);
    } else {
        let _ = std::fs::remove_dir_all(dest);
        std::fs::create_dir_all(dest).expect("dest");
        recv.arg("--dir").arg(dest);
    }
    let (receiver, jid, stdout) = spawn_ready(recv);
    let mut send = server.xft_using(bin, alice);
    send.env("XDG_CACHE_HOME", sender_cache())
        .args(["send", "--json"])
        .args(send_args)
        .arg(file)
        .arg(&jid)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut sender = send.spawn().expect("spawn send");
    let mut sout = sender.stdout.take().expect("stdout");
    let sender_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = sout.read_to_string(&mut s);
        s
    });
    let (scode, srss, scpu) = wait_with_cpu(sender);
    let sender_wall = started.elapsed().as_secs_f64();
    let (rcode, rrss, rcpu) = wait_with_cpu(receiver);
    assert!(
        scode == 0 && rcode == 0,
        "transfer failed: send {scode}, recv {rcode}"
    );
    let rate = |text: String| -> f64 {
        serde_json::from_str::<serde_json::Value>(text.trim())
            .ok()
            .and_then(|v| v["bytes_per_sec"].as_f64())
            .unwrap_or(0.0)
    };
    let measured = Measured {
        sender_wall,
        sender_rate: rate(sender_out.join().unwrap_or_default()),
        receiver_rate: rate(stdout.join().unwrap_or_default()),
        sender_rss_kib: srss,
        receiver_rss_kib: rrss,
        cpu: scpu + rcpu,
        sender_cpu: scpu,
    };
    if dest != Path::new("/dev/null") {
        let _ = std::fs::remove_dir_all(dest);
    }
    measured
}

fn s5b_table(work: &Path) {
    let mib = env_usize("XFT_BENCH_S5B_MIB", 1024);
    let file = work.join("s5b.bin");
    make_file(&file, mib);
    let to_file = tcp_copy(&file, &work.join("tcp-copy.out"));
    let to_null = tcp_copy(&file, Path::new("/dev/null"));
    let server = support::server();
    let (alice, bob) = (server.account("alice"), server.account("bob"));
    let dest = work.join("in");
    println!("\n## SI over SOCKS5 bytestreams ({mib} MiB file on tmpfs)");
    println!(
        "Baselines (same run): TCP copy file->file {} MB/s, file->/dev/null {} MB/s.",
        mb(to_file),
        mb(to_null)
    );
    println!(
        "'wire' = sender's rate (until the receiver has every byte); 'verified' = receiver's rate"
    );
    println!("including its MD5 check. The sender's MD5 pre-pass is not in either (see latency).");
    println!("| path | into | wire MB/s | wire ratio | verified MB/s | verified ratio |");
    println!("|---|---|---|---|---|---|");
    let cases: [(&str, &[&str]); 2] = [
        (
            "direct",
            &["--protocol", "si", "--method", "s5b", "--no-proxy"],
        ),
        (
            "proxy65",
            &["--protocol", "si", "--method", "s5b", "--no-direct"],
        ),
    ];
    for (label, args) in cases {
        for (into, target, base) in [
            ("tmpfs file", dest.as_path(), to_file),
            ("/dev/null", Path::new("/dev/null"), to_null),
        ] {
            let m = measured_transfer(server, &alice, &bob, &file, target, args);
            println!(
                "| S5B {label} | {into} | {} | {:.2} | {} | {:.2} |",
                mb(m.sender_rate),
                m.sender_rate / base,
                mb(m.receiver_rate),
                m.receiver_rate / base
            );
        }
    }
    let hashed = measured_transfer(
        server,
        &alice,
        &bob,
        &file,
        Path::new("/dev/null"),
        &["--protocol", "si", "--method", "s5b", "--no-proxy"],
    );
    let unhashed = measured_transfer(
        server,
        &alice,
        &bob,
        &file,
        Path::new("/dev/null"),
        &[
            "--protocol",
            "si",
            "--method",
            "s5b",
            "--no-proxy",
            "--no-hash",
        ],
    );
    println!(
        "| S5B direct, --no-hash | /dev/null | {} | {:.2} | {} | {:.2} |",
        mb(unhashed.sender_rate),
        unhashed.sender_rate / to_null,
        mb(unhashed.receiver_rate),
        unhashed.receiver_rate / to_null
    );
    // Into a file, both sides leave the copy to the kernel (sendfile, splice).
    let no_hash = [
        "--protocol",
        "si",
        "--method",
        "s5b",
        "--no-proxy",
        "--no-hash",
    ];
    let into_file = measured_transfer(server, &alice, &bob, &file, &dest, &no_hash);
    println!(
        "| S5B direct, --no-hash | tmpfs file | {} | {:.2} | {} | {:.2} |",
        mb(into_file.sender_rate),
        into_file.sender_rate / to_file,
        mb(into_file.receiver_rate),
        into_file.receiver_rate / to_file
    );
    let jingle_no_hash = ["--protocol", "jingle", "--no-proxy", "--no-hash"];
    let jingle_file = measured_transfer(server, &alice, &bob, &file, &dest, &jingle_no_hash);
    println!(
        "| Jingle S5B direct, --no-hash | tmpfs file | {} | {:.2} | {} | {:.2} |",
        mb(jingle_file.sender_rate),
        jingle_file.sender_rate / to_file,
        mb(jingle_file.receiver_rate),
        jingle_file.receiver_rate / to_file
    );
    println!(
        "(--no-hash into a file, whole command: SI {:.2} s, {:.2} of the TCP copy file->file; Jingle {:.2} s, {:.2}.)",
        into_file.sender_wall,
        mib as f64 * 1048576.0 / into_file.sender_wall / to_file,
        jingle_file.sender_wall,
        mib as f64 * 1048576.0 / jingle_file.sender_wall / to_file
    );
    let ibb_mib = 64.min(mib);
    let ibb_file = work.join("ibb-row.bin");
    make_file(&ibb_file, ibb_mib);
    let m = measured_transfer(
        server,
        &alice,
        &bob,
        &ibb_file,
        Path::new("/dev/null"),
        &["--protocol", "si", "--method", "ibb"],
    );
    println!(
        "| IBB (defaults, {ibb_mib} MiB) | /dev/null | {} | {:.4} | {} | {:.4} |",
        mb(m.sender_rate),
        m.sender_rate / to_null,
        mb(m.receiver_rate),
        m.receiver_rate / to_null
    );
    let _ = std::fs::remove_file(&ibb_file);

    println!(
        "\nSender wall time for the {mib} MiB file into /dev/null, command start to exit: {:.2} s with MD5 (pre-pass plus verified transfer), {:.2} s with --no-hash (ratio {:.2}).",
        hashed.sender_wall,
        unhashed.sender_wall,
        unhashed.sender_wall / hashed.sender_wall
    );
    println!("\n## Peak RSS (S5B direct into tmpfs)");
    println!("| file | sender RSS | receiver RSS |");
    println!("|---|---|---|");
    for size in [64usize, mib] {
        let f = if size == mib {
            file.clone()
        } else {
            work.join("rss.bin")
        };
        if size != mib {
            make_file(&f, size);
        }
        let m = measured_transfer(
            server,
            &alice,
            &bob,
            &f,
            &dest,
            &["--protocol", "si", "--method", "s5b", "--no-proxy"],
        );
        println!(
            "| {size} MiB | {:.1} MiB | {:.1} MiB |",
            m.sender_rss_kib as f64 / 1024.0,
            m.receiver_rss_kib as f64 / 1024.0
        );
        if size != mib {
            let _ = std::fs::remove_file(&f);
        }
    }
    let _ = std::fs::remove_file(file);
}

/// A verified SI transfer over direct SOCKS5 into /dev/null, whole command (sender's
/// start to exit, MD5 pre-pass included), for this build and for the baseline build
/// (`XFT_BENCH_BASELINE_BIN`) alternately, best of three each, against a TCP copy.
fn verified_table(work: &Path) {
    let mib = env_usize("XFT_BENCH_S5B_MIB", 1024);
    let file = work.join("verified.bin");
    make_file(&file, mib);
    let server = support::server();
    let (alice, bob) = (server.account("alice"), server.account("bob"));
    let mut builds = vec![("this build", support::xft_binary())];
    if let Some(bin) = std::env::var_os("XFT_BENCH_BASELINE_BIN") {
        builds.push(("baseline build", PathBuf::from(bin)));
    }
    let size = (mib as f64) * 1048576.0;
    let mut tcp = 0f64;
    let mut best = vec![(f64::MAX, f64::MAX); builds.len()];
    for _ in 0..3 {
        tcp = tcp.max(tcp_copy(&file, Path::new("/dev/null")));
        for (i, (_, bin)) in builds.iter().enumerate() {
            let args = ["--protocol", "si", "--method", "s5b", "--no-proxy"];
            let hashed = measured_transfer_with(
                bin,
                server,
                (&alice, &bob),
                &file,
                Path::new("/dev/null"),
                &args,
            );
            let args = [
                "--protocol",
                "si",
                "--method",
                "s5b",
                "--no-proxy",
                "--no-hash",
            ];
            let bare = measured_transfer_with(
                bin,
                server,
                (&alice, &bob),
                &file,
                Path::new("/dev/null"),
                &args,
            );
            best[i].0 = best[i].0.min(hashed.sender_wall);
            best[i].1 = best[i].1.min(bare.sender_wall);
        }
    }
    println!(
        "\n## Whole command, {mib} MiB over direct SOCKS5 into /dev/null (best of 3, alternating)"
    );
    println!(
        "Baseline: TCP copy of the same file, best of 3: {} MB/s.",
        mb(tcp)
    );
    println!(
        "| build | verified (MD5) s | MB/s | ratio to TCP | --no-hash s | MB/s | ratio to TCP |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, (label, _)) in builds.iter().enumerate() {
        let (h, n) = best[i];
        println!(
            "| {label} | {h:.2} | {} | {:.2} | {n:.2} | {} | {:.2} |",
            mb(size / h),
            size / h / tcp,
            mb(size / n),
            size / n / tcp
        );
    }
    let _ = std::fs::remove_file(file);
}

/// `xft recv` taking every file into `inbox` (overwriting) until killed, quietly.
fn inbox_receiver(mut recv: std::process::Command, inbox: &Path) -> Receiver {
    recv.args([
        "recv",
        "--accept-any",
        "--count",
        "0",
        "-q",
        "--overwrite",
        "--dir",
    ])
    .arg(inbox);
    Receiver::spawn(recv)
}

/// Phases of `xft -v send` of 1 KiB, from its debug log (uptime stamps), and wall time
/// against `xft vcard get` (a bare login and one query) in the same run.
fn latency_table(work: &Path) {
    let server = support::server();
    let (alice, bob) = (server.account("alice"), server.account("bob"));
    let file = work.join("one-kib.bin");
    std::fs::write(&file, support::pattern(1024, 1)).expect("write");
    let inbox = work.join("latency-in");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let receiver = inbox_receiver(server.xft(&bob), &inbox);
    // XFT_BENCH_BASELINE_BIN: another build of xft (say, the last release) measured
    // in the same run, alternating with this one.
    let baseline_bin = std::env::var_os("XFT_BENCH_BASELINE_BIN").map(PathBuf::from);
    let mut builds = vec![("this build", support::xft_binary())];
    if let Some(bin) = baseline_bin {
        builds.push(("baseline build", bin));
    }
    let runs = 11;
    let mut walls = vec![Vec::new(); builds.len()];
    let mut logins = vec![Vec::new(); builds.len()];
    let mut last_log = String::new();
    let mut last_wall = 0.0;
    let mut jingle_walls = Vec::new();
    // What a user without --ca pays: the distribution's bundle (with the run's CA added,
    // as a public server's would be in it) and the certificate directory beside it.
    let system_bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    let store = work.join("system-bundle.crt");
    let bundle = std::fs::read(system_bundle).unwrap_or_default();
    let ca = std::fs::read(&server.ca_pem).expect("read the run's CA");
    std::fs::write(&store, [bundle, ca].concat()).expect("write the bundle");
    let mut store_logins = Vec::new();
    for _ in 0..runs {
        for (i, (_, bin)) in builds.iter().enumerate() {
            let mut send = server.xft_using(bin, &alice);
            send.args([
                "-v",
                "send",
                "--protocol",
                "si",
                "--method",
                "s5b",
                "--no-proxy",
            ])
            .arg(&file)
            .arg(&receiver.jid);
            let started = Instant::now();
            let out = send.output().expect("send");
            walls[i].push(started.elapsed().as_secs_f64());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            if i == 0 {
                last_log = String::from_utf8_lossy(&out.stderr).into_owned();
                last_wall = started.elapsed().as_secs_f64();
            }
            let mut get = server.xft_using(bin, &alice);
            get.args(["vcard", "get", "-q"]);
            let started = Instant::now();
            let _ = get.output();
            logins[i].push(started.elapsed().as_secs_f64());
        }
        let mut get = server.xft_using_system_trust(&support::xft_binary(), &alice);
        get.args(["vcard", "get", "-q"])
            .env("SSL_CERT_FILE", &store)
            .env("SSL_CERT_DIR", "/etc/ssl/certs");
        let started = Instant::now();
        let _ = get.output();
        store_logins.push(started.elapsed().as_secs_f64());
        // The default between two xft: Jingle (SHA-256 after the data).
        let mut send = server.xft(&alice);
        send.args(["send", "--method", "s5b", "--no-proxy"])
            .arg(&file)
            .arg(&receiver.jid);
        let started = Instant::now();
        let out = send.output().expect("send");
        jingle_walls.push(started.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    receiver.kill();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v[v.len() / 2]
    };
    println!(
        "\n## 1 KiB transfer, command start to exit (median of {runs}, S5B direct, stock Prosody)"
    );
    println!("| build | `xft vcard get` (login, one query, logout) ms | 1 KiB `xft send --protocol si` ms | send / this build's send |");
    println!("|---|---|---|---|");
    let this_send = median(&mut walls[0].clone());
    for (i, (label, _)) in builds.iter().enumerate() {
        let (send_wall, login_wall) = (median(&mut walls[i]), median(&mut logins[i]));
        println!(
            "| {label} | {:.1} | {:.1} | {:.2} |",
            login_wall * 1000.0,
            send_wall * 1000.0,
            send_wall / this_send
        );
    }
    let jingle_wall = median(&mut jingle_walls);
    println!(
        "| this build, Jingle (the default) | | {:.1} | {:.2} |",
        jingle_wall * 1000.0,
        jingle_wall / this_send
    );
    println!(
        "| this build, without --ca: the system's bundle ({} KiB) and /etc/ssl/certs | {:.1} | | |",
        std::fs::metadata(&store)
            .map(|m| m.len() / 1024)
            .unwrap_or(0),
        median(&mut store_logins) * 1000.0
    );
    let _ = std::fs::remove_file(&store);
    println!("| phase (from the last run's -v log) | ends at ms | takes ms |");
    println!("|---|---|---|");
    let marks = [
        ("start, read and hash the file", "hashed "),
        ("TCP connect", "connected to"),
        ("STARTTLS and TLS handshake", "TLS established"),
        ("SASL (SCRAM)", "authenticated after"),
        ("resource binding", "bound "),
        ("SI offer until accepted", "offer accepted"),
        ("S5B negotiation", "S5B via"),
        ("bytes, until the receiver closed", "transfer complete"),
    ];
    let mut previous = 0.0;
    for (label, needle) in marks {
        let stamp = last_log
            .lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|t| t.trim_end_matches('s').parse::<f64>().ok());
        if let Some(t) = stamp {
            println!(
                "| {label} | {:.1} | {:.1} |",
                t * 1000.0,
                (t - previous) * 1000.0
            );
            previous = t;
        }
    }
    println!(
        "| logout, exit, and the start-up before the log's clock starts | {:.1} | {:.1} |",
        last_wall * 1000.0,
        (last_wall - previous) * 1000.0
    );
    let _ = std::fs::remove_file(file);
}

/// A slot from `server`'s upload service for `name` (what curl then uses).
fn slot_for(server: &Prosody, account: &Account, name: &str, size: u64) -> xft::upload::Slot {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (session, _incoming) = support::peer_login(server, account).await;
        let service = xft::upload::discover(&session)
            .await
            .expect("upload service");
        let slot = xft::upload::request_slot(
            &session,
            &service,
            name,
            size,
            "application/octet-stream",
            Duration::from_secs(30),
        )
        .await
        .expect("slot");
        session.close().await;
        slot
    })
}

/// curl's `time_total` in seconds for one request, checking the status.
fn curl(args: &[&str], expect: u16) -> f64 {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-w", "%{http_code} %{time_total}"])
        .args(args)
        .output()
        .expect("curl (scripts/install-deps installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts = text.split_whitespace();
    let code: u16 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    assert_eq!(
        code,
        expect,
        "curl {args:?}: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parts
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::NAN)
}

/// One child's JSON report (first line of stdout), exit code and peak RSS.
fn run_json(mut cmd: std::process::Command) -> (serde_json::Value, i32, i64, f64) {
    use std::process::Stdio;
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn xft");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let (code, rss) = wait_with_rusage(child);
    let wall = started.elapsed().as_secs_f64();
    let text = reader.join().unwrap_or_default();
    let first = text.lines().next().unwrap_or_default().to_owned();
    let value = serde_json::from_str(&first).unwrap_or(serde_json::Value::Null);
    (value, code, rss, wall)
}

/// XEP-0363 both ways against curl on the same service, same file, same run: curl PUTs
/// to a slot the bench asks for, xft runs `xft upload`; curl GETs xft's URL, and
/// `xft recv -o /dev/null` downloads it from a link a scripted contact sends.
fn upload_table(work: &Path) {
    let mib = env_usize("XFT_BENCH_UPLOAD_MIB", 256);
    let file = work.join("upload.bin");
    make_file(&file, mib);
    let size = (mib as u64) << 20;
    let file_arg = file.display().to_string();
    println!(
        "\n## HTTP upload (XEP-0363) through mod_http_file_share, {mib} MiB, against curl on the same service"
    );
    println!("xft's data phase is its report's `seconds` (PUT or GET to the end); whole is start to exit.");
    println!("| server | step | curl MB/s | xft MB/s (data phase) | ratio | xft whole command | xft peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    for (label, server) in [
        ("stock", support::upload_server()),
        ("tuned", support::tuned_upload_server()),
    ] {
        let (alice, bob) = (server.account("benchup"), server.account("benchdown"));
        let slot = slot_for(server, &alice, "curl.bin", size);
        let auth: Vec<String> = slot
            .put_headers
            .iter()
            .flat_map(|(n, v)| ["-H".to_owned(), format!("{n}: {v}")])
            .collect();
        let mut args: Vec<&str> = vec!["-o", "/dev/null", "-T", &file_arg];
        args.extend(auth.iter().map(String::as_str));
        args.extend([
            "-H",
            "Content-Type: application/octet-stream",
            &slot.put_url,
        ]);
        let curl_put = curl(&args, 201);

        let mut up = server.xft(&alice);
        up.args(["upload", "--json"]).arg(&file);
        let (report, code, rss, wall) = run_json(up);
        assert_eq!(code, 0, "xft upload failed");
        let xft_put = report["seconds"].as_f64().unwrap_or(f64::NAN);
        let url = report["url"].as_str().unwrap_or_default().to_owned();
        row(label, "PUT", size, curl_put, xft_put, wall, rss);

        let got = work.join("curl-get.out");
        let curl_get = curl(&["-o", &got.display().to_string(), &url], 200);
        let _ = std::fs::remove_file(&got);
        let mut recv = server.xft(&bob);
        recv.args([
            "recv",
            "--accept-any",
            "--json",
            "--progress",
            "json",
            "-o",
            "/dev/null",
        ]);
        let started = Instant::now();
        let (receiver, jid, stdout) = spawn_ready(recv);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let (peer, _incoming) = support::peer_login(server, &alice).await;
            let _ = peer.send(xft::oob::announcement(&jid, &url)).await;
            peer.close().await;
        });
        let (code, rss) = wait_with_rusage(receiver);
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(code, 0, "xft recv failed");
        let text = stdout.join().unwrap_or_default();
        let report: serde_json::Value =
            serde_json::from_str(text.lines().next().unwrap_or_default())
                .unwrap_or(serde_json::Value::Null);
        let xft_get = report["seconds"].as_f64().unwrap_or(f64::NAN);
        row(label, "GET", size, curl_get, xft_get, wall, rss);
    }
    let _ = std::fs::remove_file(&file);
}

/// Starts an `xft recv` (with `--progress json`), waits for its "ready" event and
/// returns it, its full JID and a thread collecting its stdout.
fn spawn_ready(
    mut cmd: std::process::Command,
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    use std::process::Stdio;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn recv");
    let mut out = child.stdout.take().expect("stdout");
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let jid = ready_jid(child.stderr.take().expect("stderr"));
    (child, jid, stdout)
}

fn row(server: &str, step: &str, size: u64, curl_s: f64, xft_s: f64, wall: f64, rss_kib: i64) {
    let rate = |s: f64| size as f64 / s;
    let rss = if rss_kib < 0 {
        "-".to_owned()
    } else {
        format!("{:.1} MiB", rss_kib as f64 / 1024.0)
    };
    println!(
        "| {server} | {step} | {} | {} | {:.2} | {wall:.2} s | {rss} |",
        mb(rate(curl_s)),
        mb(rate(xft_s)),
        curl_s / xft_s,
    );
}

/// Jingle file transfer over direct SOCKS5 (XEP-0260) with SHA-256 (XEP-0300) computed
/// beside the copy on both sides and checked at the end, against SI (MD5, computed by
/// the sender before offering) and a plain TCP copy, whole command, same run.
fn jingle_table(work: &Path) {
    let mib = env_usize("XFT_BENCH_S5B_MIB", 1024);
    let file = work.join("jingle.bin");
    make_file(&file, mib);
    let server = support::server();
    let (alice, bob) = (server.account("jalice"), server.account("jbob"));
    let size = (mib as f64) * 1048576.0;
    let (mut tcp, mut sha) = (0f64, 0f64);
    // Whole command (s), data phase (sender's bytes/s), CPU s of both sides, per row.
    let mut best = [(f64::MAX, 0f64, 0f64); 5];
    let (mut rss_send, mut rss_recv) = (0i64, 0i64);
    // The fourth row sends the third's file again, with the MD5 it remembered.
    let si = ["--protocol", "si", "--method", "s5b", "--no-proxy"];
    let rows: [&[&str]; 5] = [
        &["--protocol", "jingle", "--no-proxy"],
        &["--protocol", "jingle", "--no-proxy", "--no-hash"],
        &si,
        &si,
        &[
            "--protocol",
            "si",
            "--method",
            "s5b",
            "--no-proxy",
            "--no-hash",
        ],
    ];
    for _ in 0..3 {
        tcp = tcp.max(tcp_copy(&file, Path::new("/dev/null")));
        sha = sha.max(sha256_rate(&file));
        for (i, args) in rows.iter().enumerate() {
            if !wanted_row(i) {
                continue;
            }
            WARM_HASH_CACHE.store(i == 3, std::sync::atomic::Ordering::Relaxed);
            let m = measured_transfer(server, &alice, &bob, &file, Path::new("/dev/null"), args);
            if m.sender_wall < best[i].0 {
                best[i].0 = m.sender_wall;
                best[i].2 = m.cpu;
            }
            best[i].1 = best[i].1.max(m.sender_rate);
            if i == 0 {
                rss_send = rss_send.max(m.sender_rss_kib);
                rss_recv = rss_recv.max(m.receiver_rss_kib);
            }
        }
    }
    println!(
        "\n## Jingle and SI, {mib} MiB over direct SOCKS5 into /dev/null (best of 3, alternating)"
    );
    println!(
        "Baselines, best of 3: TCP copy of the same file {} MB/s; SHA-256 of it on one core {} MB/s",
        mb(tcp),
        mb(sha)
    );
    println!("(a verified transfer hashes every byte on both sides: 2 cores, 4 busy threads).");
    println!("'whole' = sender's command start to exit; 'data' = the sender's rate from the accepted offer to the end.");
    println!("'CPU' = user + system seconds of both processes (2 cores: at most twice 'whole', less the receiver's start).");
    println!("| protocol | hash | whole s | whole MB/s | whole / TCP | whole / SHA-256 | data MB/s | data / TCP | CPU s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let labels = [
        (
            "Jingle (XEP-0234/0260)",
            "SHA-256 beside the copy, both sides",
        ),
        (
            "Jingle, --no-hash",
            "none announced: the receiver lets the kernel copy, and checks a late checksum against the file",
        ),
        (
            "SI (XEP-0096/0065)",
            "MD5 before, and beside on the receiver",
        ),
        (
            "SI, the same file again",
            "MD5 remembered from the row above, beside on the receiver",
        ),
        ("SI, --no-hash", "none"),
    ];
    for (i, ((protocol, hash), (wall, data, cpu))) in labels.iter().zip(best).enumerate() {
        if !wanted_row(i) {
            continue;
        }
        println!(
            "| {protocol} | {hash} | {wall:.2} | {} | {:.2} | {:.2} | {} | {:.2} | {cpu:.2} |",
            mb(size / wall),
            size / wall / tcp,
            size / wall / sha,
            mb(data),
            data / tcp
        );
    }
    WARM_HASH_CACHE.store(false, std::sync::atomic::Ordering::Relaxed);
    println!(
        "Peak RSS (Jingle, verified): sender {:.1} MiB, receiver {:.1} MiB.",
        rss_send as f64 / 1024.0,
        rss_recv as f64 / 1024.0
    );
    let _ = std::fs::remove_file(file);
}

/// Whether row `i` (from 0) of the Jingle table is to run: all, or those listed (from 1)
/// in `XFT_BENCH_ROWS` (`2,5`), e.g. to profile one of them.
fn wanted_row(i: usize) -> bool {
    match std::env::var("XFT_BENCH_ROWS") {
        Ok(list) => list.split(',').any(|n| n.trim() == (i + 1).to_string()),
        Err(_) => true,
    }
}

/// SHA-256 of `file` on this thread, in 1 MiB reads: bytes per second.
fn sha256_rate(file: &Path) -> f64 {
    use sha2::{Digest, Sha256};
    let started = Instant::now();
    let mut f = std::fs::File::open(file).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let (mut hasher, mut total) = (Sha256::new(), 0u64);
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    std::hint::black_box(hasher.finalize());
    total as f64 / started.elapsed().as_secs_f64()
}

/// IBB against slixmpp (PyPI, the interop tests' venv) through the same stock and tuned
/// servers, same file, same run: slixmpp to slixmpp (its block 4096, one stanza at a
/// time) and xft to xft with its defaults; seconds from the sender's start to its exit.
fn slixmpp_ibb(work: &Path) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/interop-venv/bin/python");
    let script = root.join("tests/interop/slix_peer.py");
    if !python.exists() {
        println!("\n(slixmpp section skipped: run `cargo test --test interop_slixmpp` once to make its venv)");
        return;
    }
    let mib = env_usize("XFT_BENCH_IBB_MIB", 16);
    let file = work.join("slix.bin");
    make_file(&file, mib);
    let tiny = work.join("slix-tiny.bin");
    std::fs::write(&tiny, support::pattern(4096, 3)).expect("write sample");
    let extra = (mib as f64) * 1048576.0 - 4096.0;
    println!("\n## IBB (SI, 4096-byte blocks), {mib} MiB, slixmpp 1.17 vs xft through the same Prosody (best of 2)");
    println!("Each sender also sends a 4 KiB file: 'data' = the extra bytes over the extra time, which leaves out");
    println!("start-up and login (Python's take longer); 'whole' = the big file, start to exit.");
    println!("| server | slixmpp whole MB/s | xft whole MB/s | whole ratio | slixmpp data MB/s | xft data MB/s | data ratio |");
    println!("|---|---|---|---|---|---|---|");
    for (label, server) in [
        ("stock", support::server()),
        ("tuned", support::tuned_server()),
    ] {
        let (alice, bob) = (server.account("slixa"), server.account("slixb"));
        let (mut slix, mut xft) = ([f64::MAX; 2], [f64::MAX; 2]);
        for _ in 0..2 {
            for (i, sample) in [&tiny, &file].into_iter().enumerate() {
                slix[i] = slix[i].min(slixmpp_send(
                    &python,
                    &script,
                    server,
                    (&alice, &bob),
                    sample,
                    work,
                ));
                let dest = work.join("slix-xft");
                let si_ibb = ["--protocol", "si", "--method", "ibb"];
                let m = measured_transfer(server, &alice, &bob, sample, &dest, &si_ibb);
                xft[i] = xft[i].min(m.sender_wall);
            }
        }
        let whole = |t: [f64; 2]| (extra + 4096.0) / t[1];
        let data = |t: [f64; 2]| extra / (t[1] - t[0]).max(1e-6);
        println!(
            "| {label} | {} | {} | {:.2} | {} | {} | {:.2} |",
            mb(whole(slix)),
            mb(whole(xft)),
            whole(xft) / whole(slix),
            mb(data(slix)),
            mb(data(xft)),
            data(xft) / data(slix)
        );
    }
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(tiny);
}

/// slixmpp (driven by `tests/interop/slix_peer.py`) sends `file` over IBB to a slixmpp
/// receiver: seconds from starting the sender to its exit.
fn slixmpp_send(
    python: &Path,
    script: &Path,
    server: &Prosody,
    (alice, bob): (&Account, &Account),
    file: &Path,
    work: &Path,
) -> f64 {
    use std::io::BufRead;
    let port = server.c2s_port.to_string();
    let ca = server.ca_pem.display().to_string();
    let out = work.join("slix.out");
    let mut recv = std::process::Command::new(python)
        .arg(script)
        .args(["recv", &bob.jid, &bob.password, "127.0.0.1", &port, &ca])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("slixmpp receiver");
    let mut lines = std::io::BufReader::new(recv.stdout.take().expect("stdout"));
    let mut ready = String::new();
    let _ = lines.read_line(&mut ready);
    let jid = ready
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_default()
        .to_owned();
    let started = Instant::now();
    let status = std::process::Command::new(python)
        .arg(script)
        .args([
            "send",
            &alice.jid,
            &alice.password,
            "127.0.0.1",
            &port,
            &ca,
            &jid,
        ])
        .arg(file)
        .arg("ibb")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("slixmpp sender");
    let took = started.elapsed().as_secs_f64();
    let _ = recv.wait();
    assert!(status.success(), "slixmpp send failed");
    let _ = std::fs::remove_file(&out);
    took
}

/// A long-running `xft recv --count 0` through 100 transfers of both protocols and both
/// bytestreams (four `xft send` commands of 25 files each): its resident set after the
/// first 25 and after all 100, its peak, and each sender's peak. A leak per transfer
/// shows as growth between the two readings.
fn memory_table(work: &Path) {
    use std::io::BufRead;
    use std::process::Stdio;
    let big = work.join("mem-s5b.bin");
    let small = work.join("mem-ibb.bin");
    make_file(&big, 4);
    std::fs::write(&small, support::pattern(64 << 10, 7)).expect("write sample");
    let server = support::server();
    let (alice, bob) = (server.account("malice"), server.account("mbob"));
    let inbox = work.join("mem-inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let mut recv = server.xft(&bob);
    recv.args([
        "recv",
        "--accept-any",
        "--count",
        "0",
        "--json",
        "--progress",
        "json",
        "--dir",
    ])
    .arg(&inbox)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut receiver = recv.spawn().expect("spawn recv");
    let out = receiver.stdout.take().expect("stdout");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = done_tx.send(line);
        }
    });
    let jid = ready_jid(receiver.stderr.take().expect("stderr"));
    let pid = receiver.id();
    let status_kib = |field: &str| -> i64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let commands: [(&str, &[&str], &Path); 4] = [
        (
            "Jingle, S5B, 4 MiB",
            &["--protocol", "jingle", "--no-proxy"],
            &big,
        ),
        (
            "SI, S5B, 4 MiB",
            &["--protocol", "si", "--method", "s5b", "--no-proxy"],
            &big,
        ),
        (
            "Jingle, IBB, 64 KiB",
            &["--protocol", "jingle", "--method", "ibb"],
            &small,
        ),
        (
            "SI, IBB, 64 KiB",
            &["--protocol", "si", "--method", "ibb"],
            &small,
        ),
    ];
    let mut rows = Vec::new();
    let mut received = 0;
    for (label, args, file) in commands {
        let mut send = server.xft(&alice);
        send.arg("send")
            .args(args)
            .args(std::iter::repeat_n(file, 25))
            .arg(&jid)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let (code, rss) = wait_with_rusage(send.spawn().expect("spawn send"));
        assert_eq!(code, 0, "{label}: send failed");
        for _ in 0..25 {
            done_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the receiver reports each file");
            received += 1;
        }
        rows.push((label, rss, received, status_kib("VmRSS:")));
    }
    let peak = status_kib("VmHWM:");
    let _ = receiver.kill();
    let _ = receiver.wait();
    println!("\n## Memory: one `xft recv --count 0` through 100 transfers");
    println!(
        "Four `xft send` commands in turn, 25 files each, to the same receiver (into a directory)."
    );
    println!(
        "| sender command | sender peak RSS MiB | files received so far | receiver RSS MiB then |"
    );
    println!("|---|---|---|---|");
    for (label, rss, count, now) in rows {
        println!(
            "| {label} | {:.1} | {count} | {:.1} |",
            rss as f64 / 1024.0,
            now as f64 / 1024.0
        );
    }
    println!(
        "Receiver peak RSS over the 100 transfers: {:.1} MiB.",
        peak as f64 / 1024.0
    );
    let _ = std::fs::remove_file(big);
    let _ = std::fs::remove_file(small);
    let _ = std::fs::remove_dir_all(inbox);
}

/// Issue 20: transfers side by side must not cost throughput: eight 64 MiB senders at
/// once to one `xft recv --count 8` (with `--parallel` 1, 2 and the default 4) against
/// one 512 MiB sender to `--count 1`, through the tuned server (Jingle, direct SOCKS5,
/// verified), three alternating runs.
fn parallel_table(work: &Path) {
    let one = work.join("par-512.bin");
    let part = work.join("par-64.bin");
    make_file(&one, 512);
    make_file(&part, 64);
    let server = support::tuned_server();
    println!("\n## Transfers side by side (tuned server, Jingle over direct SOCKS5, verified)");
    println!("Whole time from the first send to the receiver's exit; receiver peak RSS.");
    println!("| run | 1 x 512 MiB | 8 x 64 MiB, --parallel 1 | 2 | 4 (default) | peak RSS (1 / 8 at 4) |");
    println!("|---|---|---|---|---|---|");
    for run in 1..=3 {
        let (single, rss_one) = receive_from_senders(server, work, &one, (1, 1));
        let mut cells = Vec::new();
        let mut rss_four = 0;
        for parallel in [1, 2, 4] {
            let (took, rss) = receive_from_senders(server, work, &part, (8, parallel));
            cells.push(format!("{took:.2} s ({:.2})", took / single));
            rss_four = rss;
        }
        println!(
            "| {run} | {single:.2} s | {} | {:.1} / {:.1} MiB |",
            cells.join(" | "),
            rss_one as f64 / 1024.0,
            rss_four as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_file(one);
    let _ = std::fs::remove_file(part);
}

/// `senders` copies of `file` sent at once (one account each) to one `xft recv`;
/// returns the seconds from the first send to the receiver's exit, and its peak RSS.
fn receive_from_senders(
    server: &Prosody,
    work: &Path,
    file: &Path,
    (senders, parallel): (usize, usize),
) -> (f64, i64) {
    use std::process::Stdio;
    let inbox = work.join(format!("par-inbox-{senders}"));
    let _ = std::fs::remove_dir_all(&inbox);
    std::fs::create_dir_all(&inbox).expect("inbox");
    let bob = server.account("parbob");
    let mut recv = server.xft(&bob);
    recv.args(["recv", "--accept-any", "--count", &senders.to_string()])
        .args(["--parallel", &parallel.to_string()])
        .args(["--progress", "json", "--dir"])
        .arg(&inbox)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut receiver = recv.spawn().expect("spawn recv");
    let jid = ready_jid(receiver.stderr.take().expect("stderr"));
    let started = Instant::now();
    let children: Vec<std::process::Child> = (0..senders)
        .map(|n| {
            let mut send = server.xft(&server.account(&format!("parsend{n}")));
            send.args(["send", "--protocol", "jingle", "--no-proxy"])
                .arg(file)
                .arg(&jid)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            send.spawn().expect("spawn send")
        })
        .collect();
    let (code, rss) = wait_with_rusage(receiver);
    let took = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "the receiver failed");
    for child in children {
        let (code, _) = wait_with_rusage(child);
        assert_eq!(code, 0, "a sender failed");
    }
    let _ = std::fs::remove_dir_all(&inbox);
    (took, rss)
}

/// One `xft send` by upload (plain, or `--encrypt`: XEP-0454 inside OMEMO) to a running
/// `xft recv`: the sender's data phase (PUT) and peak RSS, the receiver's (GET) and its.
struct UploadRound {
    put_seconds: f64,
    put_rss_kib: i64,
    get_seconds: f64,
    get_rss_kib: i64,
}

fn upload_round(
    server: &Prosody,
    (alice, bob): (&Account, &Account),
    file: &Path,
    inbox: &Path,
    encrypt: bool,
) -> UploadRound {
    let mut recv = server.xft(bob);
    recv.args([
        "recv",
        "--accept-any",
        "--json",
        "--progress",
        "json",
        "--dir",
    ])
    .arg(inbox);
    let (receiver, _jid, stdout) = spawn_ready(recv);
    let mut send = server.xft(alice);
    send.arg("send").arg("--json");
    if encrypt {
        send.arg("--encrypt");
    } else {
        send.args(["--method", "upload"]);
    }
    send.arg(file).arg(&bob.jid);
    let (sent, code, put_rss_kib, _) = run_json(send);
    assert_eq!(code, 0, "xft send failed");
    let (code, get_rss_kib) = wait_with_rusage(receiver);
    assert_eq!(code, 0, "xft recv failed");
    let text = stdout.join().unwrap_or_default();
    let got: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    assert_eq!(got["encrypted"], encrypt, "{got}");
    if let Some(path) = got["path"].as_str() {
        let _ = std::fs::remove_file(path);
    }
    UploadRound {
        put_seconds: sent["seconds"].as_f64().unwrap_or(f64::NAN),
        put_rss_kib,
        get_seconds: got["seconds"].as_f64().unwrap_or(f64::NAN),
        get_rss_kib,
    }
}

/// Encrypted files (XEP-0454 in OMEMO) against plain uploads of the same file through
/// the same service in the same run, alternating; then the peak memory of both sides
/// for a 1 GiB encrypted file.
fn encrypted_table(work: &Path) {
    let mib = env_usize("XFT_BENCH_UPLOAD_MIB", 256);
    let runs = env_usize("XFT_BENCH_RUNS", 3);
    let server = support::tuned_https_upload_server();
    let (alice, bob) = (server.account("benchenc"), server.account("benchdec"));
    let inbox = work.join("enc-inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let file = work.join("enc.bin");
    make_file(&file, mib);
    let size = (mib as u64) << 20;
    println!("\n## Encrypted files (XEP-0454 in OMEMO) against plain uploads, {mib} MiB, tuned Prosody with HTTPS slots");
    println!("`xft send --encrypt` against `xft send --method upload` to a running `xft recv`, alternating, {runs} runs;");
    println!("data phases (the sender's PUT, the receiver's GET with decryption), median MB/s.");
    println!("| step | plain MB/s | encrypted MB/s | encrypted / plain | plain peak RSS | encrypted peak RSS |");
    println!("|---|---|---|---|---|---|");
    let (mut plain, mut sealed) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        plain.push(upload_round(server, (&alice, &bob), &file, &inbox, false));
        sealed.push(upload_round(server, (&alice, &bob), &file, &inbox, true));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rss = |v: &[UploadRound], get: bool| {
        let most = v
            .iter()
            .map(|r| if get { r.get_rss_kib } else { r.put_rss_kib })
            .max()
            .unwrap_or(0);
        format!("{:.1} MiB", most as f64 / 1024.0)
    };
    for (step, get) in [("PUT (send)", false), ("GET (recv)", true)] {
        let rate = |v: &[UploadRound]| {
            median(
                v.iter()
                    .map(|r| size as f64 / if get { r.get_seconds } else { r.put_seconds })
                    .collect(),
            )
        };
        let (p, e) = (rate(&plain), rate(&sealed));
        println!(
            "| {step} | {} | {} | {:.2} | {} | {} |",
            mb(p),
            mb(e),
            e / p,
            rss(&plain, get),
            rss(&sealed, get)
        );
    }
    let _ = std::fs::remove_file(&file);
    make_file(&file, 1024);
    let big = upload_round(server, (&alice, &bob), &file, &inbox, true);
    println!(
        "1 GiB encrypted: sender peak RSS {:.1} MiB, receiver {:.1} MiB (PUT {} MB/s, GET {} MB/s).",
        big.put_rss_kib as f64 / 1024.0,
        big.get_rss_kib as f64 / 1024.0,
        mb((1u64 << 30) as f64 / big.put_seconds),
        mb((1u64 << 30) as f64 / big.get_seconds)
    );
    let _ = std::fs::remove_file(&file);
}
