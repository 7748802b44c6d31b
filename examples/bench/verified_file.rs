//! Section "verified-file": verified S5B transfers into a real file (on tmpfs), as a
//! user receives them, and into /dev/null, with this build and, when
//! `XFT_BENCH_BASELINE_BIN` names one, another build, the first build changing every
//! run; against one core's SHA-256 and a TCP copy into a file measured in the same run.
//! Made to judge a kernel copy for verified transfers (issue 22; the branch
//! `experiment/verified-sendfile` holds the one measured, which lost).

use std::path::{Path, PathBuf};

use super::support;

/// One row's measurements over the runs.
#[derive(Default)]
struct Runs {
    wall: Vec<f64>,
    data: Vec<f64>,
    cpu: Vec<f64>,
    sender_cpu: Vec<f64>,
    rss: (i64, i64),
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(super) fn verified_file_table(work: &Path) {
    let mib = super::env_usize("XFT_BENCH_S5B_MIB", 512);
    let runs = super::env_usize("XFT_BENCH_RUNS", 3);
    let file = work.join("verified-file.bin");
    super::make_file(&file, mib);
    let dest = work.join("verified-file-dest");
    let server = support::server();
    let (alice, bob) = (server.account("zalice"), server.account("zbob"));
    let mut builds = vec![("this build", support::xft_binary())];
    if let Some(bin) = std::env::var_os("XFT_BENCH_BASELINE_BIN") {
        builds.push(("baseline build", PathBuf::from(bin)));
    }
    let jingle: &[&str] = &["--protocol", "jingle", "--no-proxy"];
    let si: &[&str] = &["--protocol", "si", "--method", "s5b", "--no-proxy"];
    let null = Path::new("/dev/null");
    let rows = [
        ("Jingle, SHA-256, into a file", jingle, dest.as_path()),
        ("Jingle, SHA-256, into /dev/null", jingle, null),
        ("SI, MD5, into a file", si, dest.as_path()),
    ];
    let (mut tcp, mut sha) = (Vec::new(), Vec::new());
    let mut measured: Vec<Runs> = (0..builds.len() * rows.len())
        .map(|_| Runs::default())
        .collect();
    for run in 0..runs {
        tcp.push(super::tcp_copy(&file, &work.join("tcp.out")));
        let _ = std::fs::remove_file(work.join("tcp.out"));
        sha.push(super::sha256_rate(&file));
        // Which build goes first changes every run: the first transfer after the
        // baselines measured slower for either build.
        let mut order: Vec<usize> = (0..builds.len()).collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for b in order {
            let bin = &builds[b].1;
            for (r, (_, args, into)) in rows.iter().enumerate() {
                if !super::wanted_row(r) {
                    continue;
                }
                let m =
                    super::measured_transfer_with(bin, server, (&alice, &bob), &file, into, args);
                let slot = &mut measured[b * rows.len() + r];
                slot.wall.push(m.sender_wall);
                slot.data.push(m.sender_rate);
                slot.cpu.push(m.cpu);
                slot.sender_cpu.push(m.sender_cpu);
                slot.rss.0 = slot.rss.0.max(m.sender_rss_kib);
                slot.rss.1 = slot.rss.1.max(m.receiver_rss_kib);
            }
        }
    }
    let size = (mib as f64) * 1048576.0;
    let (tcp, sha) = (median(&tcp), median(&sha));
    println!("\n## Verified S5B, {mib} MiB, files on tmpfs (median of {runs}, alternating)");
    println!(
        "Baselines, same run: TCP copy into a file {} MB/s; SHA-256 on one core {} MB/s.",
        super::mb(tcp),
        super::mb(sha)
    );
    println!("'whole' = the sender's command; 'data' = the sender's rate from the accepted offer to the end; CPU = both processes.");
    println!("| build | transfer | whole s | whole / SHA-256 | data MB/s | data / SHA-256 | data / TCP | CPU s (sender) | peak RSS send / recv MiB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (b, (label, _)) in builds.iter().enumerate() {
        for (r, (protocol, _, _)) in rows.iter().enumerate() {
            if !super::wanted_row(r) {
                continue;
            }
            let m = &measured[b * rows.len() + r];
            let (wall, data) = (median(&m.wall), median(&m.data));
            println!(
                "| {label} | {protocol} | {wall:.2} | {:.2} | {} | {:.2} | {:.2} | {:.2} ({:.2}) | {:.1} / {:.1} |",
                size / wall / sha,
                super::mb(data),
                data / sha,
                data / tcp,
                median(&m.cpu),
                median(&m.sender_cpu),
                m.rss.0 as f64 / 1024.0,
                m.rss.1 as f64 / 1024.0
            );
        }
    }
    let _ = std::fs::remove_file(file);
}
