//! The "round-trips" section: small commands through a relay that holds every chunk for
//! a fixed time in each direction (this kernel has no netem), so that their wall time
//! shows how many round trips they cost on a real link; xft against go-sendxmpp
//! (Debian's package) through the same relay. Both users' connections to the server go
//! through a relay of their own; peer-to-peer and HTTP connections do not.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::support::{self, Account, Prosody};

/// A TCP relay on 127.0.0.1 to `target`, holding every chunk `one_way` in each
/// direction without limiting throughput (each direction is a reader and a writer
/// thread with an unbounded queue between them).
pub(crate) struct Relay {
    pub(crate) port: u16,
}

impl Relay {
    pub(crate) fn start(target: u16, one_way: Duration) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay listener");
        let port = listener.local_addr().expect("relay address").port();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for s in [&client, &server] {
                    let _ = s.set_nodelay(true);
                }
                let (c2, s2) = (client.try_clone(), server.try_clone());
                if let (Ok(c2), Ok(s2)) = (c2, s2) {
                    pipe(client, s2, one_way);
                    pipe(server, c2, one_way);
                }
            }
        });
        Relay { port }
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            // ACK at once, as xft's own socket does (TCP_QUICKACK after every read):
            // a relay that delays its ACKs 40 ms stalls Prosody's Nagle-held writes,
            // which the clients measured here would not see.
            quick_ack(&from);
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = tx.send((Instant::now(), Vec::new()));
    });
    std::thread::spawn(move || {
        for (read_at, data) in rx {
            let due = read_at + delay;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if data.is_empty() {
                let _ = to.shutdown(Shutdown::Write);
                break;
            }
            if to.write_all(&data).is_err() {
                break;
            }
        }
    });
}

/// Asks the kernel to ACK what arrives next without delay (Linux clears this again).
fn quick_ack(socket: &TcpStream) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a plain setsockopt on our own open socket, with a valid pointer and size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// `xft` as `account` through `port` (a relay), isolated like the tests' commands.
fn xft_via(server: &Prosody, account: &Account, port: u16) -> Command {
    xft_via_using(server, &support::xft_binary(), account, port)
}

/// [`xft_via`] with another build of xft.
fn xft_via_using(server: &Prosody, binary: &Path, account: &Account, port: u16) -> Command {
    let mut cmd = server.xft_bare_using(binary);
    cmd.args(["--jid", &account.jid])
        .args(["--server", &format!("127.0.0.1:{port}")])
        .arg("--ca")
        .arg(&server.ca_pem)
        .env("XFT_PASSWORD", &account.password);
    cmd
}

/// Median wall time of `runs` runs of what `make` builds (each must succeed).
fn median_wall(runs: usize, mut make: impl FnMut() -> Command) -> f64 {
    let mut walls: Vec<f64> = (0..runs)
        .map(|_| {
            let mut cmd = make();
            let started = Instant::now();
            let out = cmd.output().expect("run");
            let wall = started.elapsed().as_secs_f64();
            assert!(
                out.status.success(),
                "{:?}: {}",
                cmd.get_args().collect::<Vec<_>>(),
                String::from_utf8_lossy(&out.stderr)
            );
            wall
        })
        .collect();
    walls.sort_by(f64::total_cmp);
    walls[walls.len() / 2]
}

/// The commands measured, each as a closure building the command for one delay.
type Build<'a> = Box<dyn Fn(&Links) -> Command + 'a>;

/// The relays of one delay: alice's to the c2s port and to the direct-TLS port.
struct Links {
    alice: u16,
    alice_tls: u16,
    receiver_jid: String,
}

pub(crate) fn round_trips_table(work: &Path) {
    let runs = super::env_usize("XFT_BENCH_RUNS", 5);
    let one_way = Duration::from_millis(25);
    let server = support::upload_server();
    let (alice, bob) = (server.account("rtta"), server.account("rttb"));
    server.make_contacts(&alice, &bob);
    let file = work.join("rtt-1k.txt");
    std::fs::write(&file, support::pattern(1024, 9)).expect("write");
    let inbox = work.join("rtt-in");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let mut card = server.xft(&alice);
    card.args(["vcard", "set", "--fn", "Alice"]);
    assert!(card.output().expect("vcard set").status.success());
    let has_go = Command::new("go-sendxmpp")
        .arg("--version")
        .output()
        .is_ok();
    let this_build = support::xft_binary();
    let baseline = std::env::var_os("XFT_BENCH_BASELINE_BIN").map(std::path::PathBuf::from);
    let mut commands = commands(server, (&alice, &bob), &file, (has_go, &this_build, ""));
    if let Some(bin) = &baseline {
        let tag = " (baseline build)";
        commands.extend(self::commands(
            server,
            (&alice, &bob),
            &file,
            (false, bin, tag),
        ));
    }
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let at = |delay: Duration, rows: &mut Vec<(String, f64, f64)>, first: bool| {
        let bob_relay = Relay::start(server.c2s_port, delay);
        let receiver = super::inbox_receiver(xft_via(server, &bob, bob_relay.port), &inbox);
        let links = Links {
            alice: Relay::start(server.c2s_port, delay).port,
            alice_tls: Relay::start(server.tls_port, delay).port,
            receiver_jid: receiver.jid.clone(),
        };
        for (i, (label, build)) in commands.iter().enumerate() {
            let wall = median_wall(runs, || build(&links));
            match first {
                true => rows.push((label.clone(), wall, 0.0)),
                false => rows[i].2 = wall,
            }
        }
        receiver.kill();
    };
    at(Duration::ZERO, &mut rows, true);
    at(one_way, &mut rows, false);
    let rtt = (2 * one_way).as_secs_f64();
    println!("\n## Round trips: small commands through a delaying relay (median of {runs})");
    println!(
        "Both users' connections to a stock Prosody pass a relay holding every chunk {} ms each way \
         (RTT {} ms); peer-to-peer and HTTP connections are direct. RTTs = (wall at {} ms - wall at 0) / RTT.",
        one_way.as_millis(),
        (2 * one_way).as_millis(),
        (2 * one_way).as_millis()
    );
    println!(
        "| command | wall, RTT 0 | wall, RTT {} ms | RTTs |",
        (2 * one_way).as_millis()
    );
    println!("|---|---|---|---|");
    for (label, zero, delayed) in rows {
        println!(
            "| {label} | {:.0} ms | {:.0} ms | {:.1} |",
            zero * 1000.0,
            delayed * 1000.0,
            (delayed - zero) / rtt
        );
    }
    if !has_go {
        println!("(go-sendxmpp is not installed: `apt-get install go-sendxmpp` adds its rows)");
    }
}

/// The rows, for the xft build `bin`, labelled with `tag` after each xft row's name.
fn commands<'a>(
    server: &'a Prosody,
    (alice, bob): (&'a Account, &'a Account),
    file: &'a Path,
    (has_go, bin, tag): (bool, &'a Path, &'a str),
) -> Vec<(String, Build<'a>)> {
    let xft = move |port: u16, args: &'a [&'a str]| {
        let mut cmd = xft_via_using(server, bin, alice, port);
        cmd.args(args);
        cmd
    };
    let mut list: Vec<(String, Build<'a>)> = vec![
        (
            "`xft vcard get` (login + one iq), STARTTLS".to_owned() + tag,
            Box::new(move |l: &Links| xft(l.alice, &["vcard", "get", "-q"])),
        ),
        (
            "the same, `--direct-tls`".to_owned() + tag,
            Box::new(move |l: &Links| xft(l.alice_tls, &["--direct-tls", "vcard", "get", "-q"])),
        ),
        (
            "`xft send` 1 KiB to a full JID (Jingle)".to_owned() + tag,
            Box::new(move |l: &Links| {
                let mut cmd = xft(l.alice, &["send", "-q"]);
                cmd.arg(file).arg(&l.receiver_jid);
                cmd
            }),
        ),
        (
            "`xft send --protocol si` 1 KiB to a full JID".to_owned() + tag,
            Box::new(move |l: &Links| {
                let mut cmd = xft(l.alice, &["send", "-q", "--protocol", "si"]);
                cmd.arg(file).arg(&l.receiver_jid);
                cmd
            }),
        ),
        (
            "`xft send` 1 KiB to a contact's bare JID".to_owned() + tag,
            Box::new(move |l: &Links| {
                let mut cmd = xft(l.alice, &["send", "-q"]);
                cmd.arg(file).arg(&bob.jid);
                cmd
            }),
        ),
        (
            "`xft send --method upload` 1 KiB (upload + file share message)".to_owned() + tag,
            Box::new(move |l: &Links| {
                let mut cmd = xft(l.alice, &["send", "-q", "--method", "upload"]);
                cmd.arg(file).arg(&bob.jid);
                cmd
            }),
        ),
        (
            "`xft upload` 1 KiB".to_owned() + tag,
            Box::new(move |l: &Links| {
                let mut cmd = xft(l.alice, &["upload", "-q"]);
                cmd.arg(file);
                cmd
            }),
        ),
    ];
    if has_go {
        let go = move |port: u16| {
            let mut cmd = Command::new("go-sendxmpp");
            cmd.args(["-u", &alice.jid, "-p", &alice.password])
                .args(["-j", &format!("127.0.0.1:{port}"), "-n"])
                .env("HOME", server.dir.join("no-config"));
            cmd
        };
        list.push((
            "go-sendxmpp: login + one message".into(),
            Box::new(move |l: &Links| {
                let mut cmd = go(l.alice);
                cmd.args(["-m"]).arg(file).arg(&bob.jid);
                cmd
            }),
        ));
        list.push((
            "go-sendxmpp -h: upload 1 KiB + link".into(),
            Box::new(move |l: &Links| {
                let mut cmd = go(l.alice);
                cmd.arg("-h").arg(file).arg(&bob.jid);
                cmd
            }),
        ));
    }
    list
}
