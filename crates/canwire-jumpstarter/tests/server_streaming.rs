//! The exporter's streaming extension and lifetime, driven by a tonic client
//! of the same schema: a client that reads slowly loses frames from its own
//! queue only (counted in `dropped`) while the bus and other readers get
//! everything; a stream ends with UNKNOWN "Cannot operate on a closed bus"
//! when its bus closes; `close()` ends waiting calls and removes the socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig};
use canwire_core::Frame;
use canwire_core::record::RECORD_SIZE;
use canwire_jumpstarter::proto::exporter_service_client::ExporterServiceClient;
use canwire_jumpstarter::proto::{DriverCallRequest, StreamingDriverCallRequest};
use canwire_jumpstarter::server::{Export, ExportDriver, ExporterServer, Listen, ServerOptions};
use canwire_jumpstarter::value;
use prost_types::value::Kind;
use tonic::transport::Channel;

fn bus(channel: &str) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            ..VirtualConfig::default()
        }))
        .expect("a virtual bus opens"),
    )
}

async fn client(address: &str) -> (ExporterServiceClient<Channel>, String) {
    let mut client = ExporterServiceClient::connect(format!("http://{address}"))
        .await
        .expect("the server accepts");
    let report = client
        .get_report(())
        .await
        .expect("GetReport answers")
        .into_inner();
    (client, report.reports[0].uuid.clone())
}

fn field<'a>(result: &'a prost_types::Value, key: &str) -> &'a prost_types::Value {
    let Some(Kind::StructValue(s)) = &result.kind else {
        panic!("not a struct: {result:?}")
    };
    &s.fields[key]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_loses_frames_from_its_own_queue_only_and_counts_them() {
    const FRAMES: usize = 150_000;
    let exported = bus("server-streaming-slow");
    let sender = bus("server-streaming-slow");
    let witness = bus("server-streaming-slow");
    let all = witness.add_reader(FRAMES).unwrap();
    let server = ExporterServer::start(
        vec![Export::new("can", ExportDriver::Can(exported.clone()))],
        ServerOptions::default(),
    )
    .unwrap();
    let (mut client, uuid) = client(server.local_address()).await;
    let mut stream = client
        .streaming_driver_call(StreamingDriverCallRequest {
            uuid,
            method: "canwire_recv_stream".into(),
            args: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    for chunk in 0..FRAMES / 1000 {
        let frames: Vec<Frame> = (0..1000)
            .map(|i| Frame::classic(0x100, false, &((chunk * 1000 + i) as u32).to_le_bytes()))
            .collect();
        assert_eq!(sender.send(&frames).unwrap(), 1000);
    }
    assert_eq!(
        all.len(),
        FRAMES,
        "the bus was not held up by the slow stream"
    );

    let (mut received, mut dropped) = (0usize, 0u64);
    let deadline = Instant::now() + Duration::from_secs(30);
    while received + (dropped as usize) < FRAMES {
        assert!(
            Instant::now() < deadline,
            "{received} received + {dropped} dropped"
        );
        let response = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let result = response.result.unwrap();
        let packed = base64::engine::general_purpose::STANDARD
            .decode(value::as_str(field(&result, "records"), "records").unwrap())
            .unwrap();
        assert!(packed.len() / RECORD_SIZE <= 1024);
        for record in packed.chunks_exact(RECORD_SIZE) {
            let frame = canwire_core::record::decode(record);
            let index = u32::from_le_bytes(frame.data()[..4].try_into().unwrap());
            // The overflow policy refuses the newest frames: what arrives is
            // the oldest ones, every one, in order.
            assert_eq!(index as usize, received, "frames in order, none skipped");
            received += 1;
        }
        dropped = value::as_f64(field(&result, "dropped"), "dropped").unwrap() as u64;
    }
    assert_eq!(received + dropped as usize, FRAMES);
    assert!(
        dropped > 0,
        "150000 frames into a 65536-frame queue nobody read"
    );
    server.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_with_the_closed_bus_status_when_the_bus_closes() {
    let exported = bus("server-streaming-close");
    let server = ExporterServer::start(
        vec![Export::new("can", ExportDriver::Can(exported.clone()))],
        ServerOptions::default(),
    )
    .unwrap();
    let (mut client, uuid) = client(server.local_address()).await;
    let mut stream = client
        .streaming_driver_call(StreamingDriverCallRequest {
            uuid: uuid.clone(),
            method: "canwire_recv_stream".into(),
            args: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let shutdown = client
        .driver_call(DriverCallRequest {
            uuid,
            method: "shutdown".into(),
            args: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shutdown.result, Some(value::null()));
    let status = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unknown);
    assert_eq!(status.message(), "Cannot operate on a closed bus");
    assert!(exported.is_closed());
    server.close();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_a_blocking_receive_and_removes_the_private_socket() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("canwire-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("exporter.sock");
    let server = Arc::new(
        ExporterServer::start(
            vec![Export::new("can", ExportDriver::Can(bus("server-close")))],
            ServerOptions {
                listen: Listen::Unix(path.clone()),
                ..ServerOptions::default()
            },
        )
        .unwrap(),
    );
    assert_eq!(server.local_address(), path.display().to_string());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let channel = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn({
            let path = path.clone();
            move |_| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(path).await?,
                    ))
                }
            }
        }))
        .await
        .unwrap();
    let mut client = ExporterServiceClient::new(channel);
    let uuid = client.get_report(()).await.unwrap().into_inner().reports[0]
        .uuid
        .clone();
    let waiting = tokio::spawn(async move {
        client
            .driver_call(DriverCallRequest {
                uuid,
                method: "_recv_internal".into(),
                args: vec![value::null()],
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let closer = server.clone();
    tokio::task::spawn_blocking(move || closer.close())
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.result,
        Some(value::list(vec![value::null(), value::boolean(false)]))
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn close_detaches_the_shared_queue_and_gives_the_stack_back_running() {
    use canwire_bus::isotp::{IsoTpDriverOptions, IsoTpStack};
    use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpParams};
    let exported = bus("server-detach");
    let stack = Arc::new(
        IsoTpStack::start_userspace(
            bus("server-detach-tp"),
            IsoTpAddress::new(AddressConfig::normal(false, 0x7e0, 0x7e8)).unwrap(),
            IsoTpParams::default(),
            IsoTpDriverOptions::default(),
        )
        .unwrap(),
    );
    let readers_before = exported.stats().readers.len();
    let server = ExporterServer::start(
        vec![
            Export::new("can", ExportDriver::Can(exported.clone())),
            Export::new("isotp", ExportDriver::IsoTp(stack.clone())),
        ],
        ServerOptions::default(),
    )
    .unwrap();
    assert_eq!(exported.stats().readers.len(), readers_before + 1);
    assert!(!stack.is_running(), "an exported stack waits for start()");
    server.close();
    assert_eq!(exported.stats().readers.len(), readers_before);
    assert!(stack.is_running(), "running again, as its owner had it");
}

fn message(id: f64) -> prost_types::Value {
    canwire_jumpstarter::can_message::to_value(&Frame::classic(id as u32, false, &[1]), None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_tasks_and_receive_streams_are_bounded_per_server() {
    use canwire_jumpstarter::server::Limits;
    let server = ExporterServer::start(
        vec![Export::new("can", ExportDriver::Can(bus("server-limits")))],
        ServerOptions {
            limits: Limits {
                periodic_tasks: 2,
                receive_streams: 1,
                ..Limits::default()
            },
            ..ServerOptions::default()
        },
    )
    .unwrap();
    let (mut client, uuid) = client(server.local_address()).await;
    let periodic = |uuid: String| DriverCallRequest {
        uuid,
        method: "_send_periodic_internal".into(),
        args: vec![
            value::list(vec![message(0x100.into())]),
            value::number(1.0),
            value::null(),
            value::boolean(false),
        ],
    };
    let first = client.driver_call(periodic(uuid.clone())).await.unwrap();
    client.driver_call(periodic(uuid.clone())).await.unwrap();
    let refused = client
        .driver_call(periodic(uuid.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        refused.message(),
        "this exporter runs at most 2 periodic tasks; stop one with _stop_task first"
    );
    let stop = DriverCallRequest {
        uuid: uuid.clone(),
        method: "_stop_task".into(),
        args: vec![first.into_inner().result.unwrap()],
    };
    client.driver_call(stop).await.unwrap();
    client.driver_call(periodic(uuid.clone())).await.unwrap();

    let stream = |uuid: String| StreamingDriverCallRequest {
        uuid,
        method: "canwire_recv_stream".into(),
        args: vec![],
    };
    let open = client
        .streaming_driver_call(stream(uuid.clone()))
        .await
        .unwrap();
    let refused = client
        .streaming_driver_call(stream(uuid.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        refused.message(),
        "this exporter serves at most 1 receive streams at once"
    );
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.streaming_driver_call(stream(uuid.clone())).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("the slot of a cancelled stream came back: {e}"),
        }
    }
    server.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_server_refuses_iso_tp_sends_and_still_receives() {
    use canwire_bus::isotp::{IsoTpDriverOptions, IsoTpStack};
    use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpParams};
    // Two buses on one channel: a bus does not hear its own frames.
    let stack = |tx, rx| {
        Arc::new(
            IsoTpStack::start_userspace(
                bus("server-ro-tp"),
                IsoTpAddress::new(AddressConfig::normal(false, tx, rx)).unwrap(),
                IsoTpParams::default(),
                IsoTpDriverOptions::default(),
            )
            .unwrap(),
        )
    };
    let exported = stack(0x7e0, 0x7e8);
    let tester = stack(0x7e8, 0x7e0);
    let server = ExporterServer::start(
        vec![Export::new("isotp", ExportDriver::IsoTp(exported))],
        ServerOptions {
            read_only: true,
            ..ServerOptions::default()
        },
    )
    .unwrap();
    let (mut client, uuid) = client(server.local_address()).await;
    let call = |method: &str, args: Vec<prost_types::Value>| DriverCallRequest {
        uuid: uuid.clone(),
        method: method.into(),
        args,
    };
    client.driver_call(call("start", vec![])).await.unwrap();
    let refused = client
        .driver_call(call(
            "send",
            vec![
                value::object([("data", value::bytes(&[0x3e, 0x00]))]),
                value::null(),
                value::null(),
            ],
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        refused.message(),
        "this exporter is read-only: send is refused (receiving works)"
    );
    tester.send(vec![0x22, 0xf1, 0x90], None, false).unwrap();
    let got = client
        .driver_call(call("recv", vec![value::boolean(true), value::number(5.0)]))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(
        got,
        value::object([("data", value::bytes(&[0x22, 0xf1, 0x90]))])
    );
    server.close();
}
