//! canwire's client against the real Python exporter (`jmp run` from the
//! Jumpstarter 0.9.0 venv in `target/py-peers`): frames both ways between
//! two drivers on one python-can virtual channel, exact fields. Skipped with
//! a message when the venv is missing; under `CI=true` that fails instead.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_bus::{Bus, FrameQueue};
use canwire_core::{ErrorCode, Frame, FrameFlags};
use canwire_jumpstarter::client::can_transport::{CanOpenOptions, JumpstarterTransport};
use canwire_jumpstarter::client::target::ConnectOptions;

fn venv_jmp() -> Option<PathBuf> {
    let jmp = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py-peers/bin/jmp");
    if jmp.exists() {
        return Some(jmp);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the Jumpstarter venv is missing ({}); run scripts/python-peers.sh",
        jmp.display()
    );
    eprintln!("skipped: no Jumpstarter venv at {}", jmp.display());
    None
}

/// A `jmp run` exporter with `can` and `peer` on one virtual channel.
struct Exporter {
    child: Child,
    port: u16,
    _dir: PathBuf,
}

impl Exporter {
    fn start(jmp: &PathBuf, passphrase: Option<&str>) -> Exporter {
        let dir = std::env::temp_dir().join(format!(
            "canwire-jsclient-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let config = dir.join("exporter.yaml");
        std::fs::write(
            &config,
            "apiVersion: jumpstarter.dev/v1alpha1\nkind: ExporterConfig\nmetadata: {namespace: default, name: x}\nexport:\n  can:  {type: jumpstarter_driver_can.driver.Can, config: {channel: js0, interface: virtual}}\n  peer: {type: jumpstarter_driver_can.driver.Can, config: {channel: js0, interface: virtual}}\n",
        )
        .expect("the exporter config is written");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(jmp);
        command
            .arg("run")
            .arg("--exporter-config")
            .arg(&config)
            .arg("--tls-grpc-listener")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-grpc-insecure");
        if let Some(p) = passphrase {
            command.arg("--passphrase").arg(p);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jmp run starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Session server started") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the exporter did not start within 60 s");
        Exporter {
            child,
            port,
            _dir: dir,
        }
    }

    fn options(&self, path: &str) -> CanOpenOptions {
        CanOpenOptions {
            connect: ConnectOptions {
                host: Some(format!("127.0.0.1:{}", self.port)),
                insecure: Some(true),
                ..ConnectOptions::default()
            },
            path: path.into(),
            fd: true,
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // SIGTERM: jmp run's supervisor forwards it to its worker
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .subsec_nanos()
        .into()
}

fn open(options: CanOpenOptions) -> Arc<Bus> {
    let (readers, transport) = JumpstarterTransport::open(options).expect("the driver opens");
    Arc::new(Bus::with_transport(readers, Box::new(transport)))
}

fn read(queue: &FrameQueue, n: usize, timeout: Duration) -> Vec<Frame> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        queue.wait_blocking(Duration::from_millis(50));
        queue.pop_into(n - out.len(), &mut out);
        if queue.is_closed() && queue.is_empty() {
            break;
        }
    }
    out
}

/// Everything but the timestamp and the TX flag, which the trip changes.
fn same_frame(got: &Frame, sent: &Frame) -> bool {
    let mut got = *got;
    got.timestamp_ns = 0;
    got.flags.set(FrameFlags::TX, false);
    let mut sent = *sent;
    sent.flags.set(FrameFlags::TX, false);
    got == sent
}

#[test]
fn frames_cross_between_two_drivers_of_a_python_exporter_with_exact_fields() {
    let Some(jmp) = venv_jmp() else { return };
    let exporter = Exporter::start(&jmp, None);
    let can = open(exporter.options("can"));
    let peer = open(exporter.options("peer"));
    let rx = peer.add_reader(100).unwrap();
    let mut fd = Frame::fd(0x18DA_F110, true, &[0x5a; 12], true);
    fd.flags.set(FrameFlags::ESI, true);
    let frames = vec![
        Frame::classic(0x123, false, &[1, 2, 3]),
        Frame::classic(0x1abc_def0, true, &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
        Frame::remote(0x7ff, false, 4),
        fd,
    ];
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert_eq!(can.send(&frames).unwrap(), 4);
    let got = read(&rx, 4, Duration::from_secs(10));
    assert_eq!(got.len(), 4, "got {got:?}");
    for (g, s) in got.iter().zip(&frames) {
        assert!(same_frame(g, s), "got {g:?}, sent {s:?}");
        assert!(
            g.timestamp_ns >= before - 1_000_000_000,
            "exporter timestamp {}",
            g.timestamp_ns
        );
    }
    assert!(
        can.channel_info().contains("'can' at 127.0.0.1:"),
        "{}",
        can.channel_info()
    );
    assert!(
        can.channel_info().ends_with("Virtual bus channel js0"),
        "{}",
        can.channel_info()
    );
    assert_eq!(can.state(), canwire_bus::BusState::Active);
    can.close();
    peer.close();
}

#[test]
fn a_wrong_passphrase_is_unauthenticated_and_a_killed_exporter_fails_the_readers() {
    let Some(jmp) = venv_jmp() else { return };
    let mut exporter = Exporter::start(&jmp, Some("opensesame"));
    let mut options = exporter.options("can");
    options.connect.passphrase = Some("wrong".into());
    let e = JumpstarterTransport::open(options.clone()).err().unwrap();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    assert!(
        e.message.ends_with("invalid or missing passphrase"),
        "{}",
        e.message
    );
    options.connect.passphrase = Some("opensesame".into());
    let bus = open(options);
    let rx = bus.add_reader(10).unwrap();
    // the worker child (its own process group) holds the listener: kill it, then the supervisor
    let workers = Command::new("pgrep")
        .arg("-P")
        .arg(exporter.child.id().to_string())
        .output()
        .unwrap();
    for pid in String::from_utf8_lossy(&workers.stdout).split_whitespace() {
        let _ = Command::new("kill").arg("-9").arg(pid).status();
    }
    let _ = Command::new("kill")
        .arg("-9")
        .arg(exporter.child.id().to_string())
        .status();
    let _ = exporter.child.wait();
    let start = Instant::now();
    assert!(read(&rx, 1, Duration::from_secs(20)).is_empty());
    let failure = rx.failure().expect("the reader fails");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "failed after {:?}",
        start.elapsed()
    );
    assert_eq!(failure.code, ErrorCode::Unreachable);
    assert!(
        failure
            .message
            .contains(&format!("127.0.0.1:{}", exporter.port)),
        "{}",
        failure.message
    );
    let asked = Instant::now();
    assert_eq!(bus.state(), canwire_bus::BusState::Unknown);
    assert!(
        asked.elapsed() < Duration::from_millis(100),
        "a lost bus answers at once"
    );
    assert_eq!(
        bus.send(&[Frame::classic(1, false, &[])]).unwrap_err().code,
        ErrorCode::Unreachable
    );
}

#[test]
fn periodic_tasks_run_on_the_exporter_with_exact_counts() {
    use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
    use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
    let Some(jmp) = venv_jmp() else { return };
    let exporter = Exporter::start(&jmp, None);
    let can = open(exporter.options("can"));
    let peer = open(exporter.options("peer"));
    let rx = peer.add_reader(100).unwrap();
    let frame = Frame::classic(0x321, false, &[0xca, 0xfe]);
    let mut timing = CyclicTiming::every(100_000_000);
    timing.limit = CyclicLimit::Count(5);
    let task = CyclicTask::create(
        can.clone(),
        vec![frame],
        timing,
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .unwrap();
    assert!(task.stats().unwrap().running);
    let got = read(&rx, 6, Duration::from_millis(1500));
    assert_eq!(got.len(), 5, "got {got:?}");
    assert!(got.iter().all(|g| same_frame(g, &frame)));
    let gaps: Vec<u64> = got
        .windows(2)
        .map(|w| w[1].timestamp_ns - w[0].timestamp_ns)
        .collect();
    assert!(
        gaps.iter().all(|&g| (60_000_000..140_000_000).contains(&g)),
        "gaps {gaps:?}"
    );
    assert!(!task.stats().unwrap().running);
    let e = task.modify(vec![frame]).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
    // restarted: five more
    task.start().unwrap();
    assert_eq!(read(&rx, 6, Duration::from_millis(1500)).len(), 5);
    // an endless task stops on stop()
    let endless = CyclicTask::create(
        can.clone(),
        vec![frame],
        CyclicTiming::every(20_000_000),
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    endless.stop().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut out = Vec::new();
    rx.pop_into(1000, &mut out);
    assert!(out.len() >= 5, "{}", out.len());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rx.len(), 0, "nothing after stop");
}
