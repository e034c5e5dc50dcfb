//! The simulated reader over real Unix sockets: framing, every failure mode, and that the
//! next phone always works afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carkey_core::ports::{NfcError, NfcReader, NfcTarget};
use carkey_nfc::SimulatedReader;
use common::Phone;

const TIMEOUT: Duration = Duration::from_millis(100);
const SELECT: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0, 0x00];

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("door-driver.sock")
}

/// One tap by a well-behaved phone that answers `9000` to every command.
async fn good_tap(reader: &mut SimulatedReader) {
    let path = reader.path().to_owned();
    let phone = tokio::spawn(async move {
        let mut phone = Phone::connect(&path).await;
        while let Some(command) = phone.command().await {
            assert_eq!(command, SELECT);
            phone.respond(&[0x90, 0x00]).await;
        }
    });
    let mut target = reader.wait_for_target().await.unwrap();
    assert_eq!(target.transceive(SELECT).await.unwrap(), [0x90, 0x00]);
    drop(target);
    phone.await.unwrap();
}

/// A tap by a phone that reads one command and then does `misbehave`; returns the
/// reader's error.
async fn bad_tap<F, Fut>(reader: &mut SimulatedReader, misbehave: F) -> NfcError
where
    F: FnOnce(Phone) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let path = reader.path().to_owned();
    let phone = tokio::spawn(async move {
        let mut phone = Phone::connect(&path).await;
        assert_eq!(phone.command().await.unwrap(), SELECT);
        misbehave(phone).await;
    });
    let mut target = reader.wait_for_target().await.unwrap();
    let error = target.transceive(SELECT).await.unwrap_err();
    assert_eq!(target.transceive(SELECT).await.unwrap_err(), NfcError::TargetLost, "a failed target stays dead");
    drop(target);
    phone.await.unwrap();
    error
}

#[tokio::test]
async fn round_trip_through_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let mut reader = SimulatedReader::bind(&path, TIMEOUT).unwrap();
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    let phone_path = path.clone();
    let phone = tokio::spawn(async move {
        let mut phone = Phone::connect(&phone_path).await;
        let mut seen = Vec::new();
        while let Some(command) = phone.command().await {
            let mut response = command.clone();
            response.extend_from_slice(&[0x90, 0x00]);
            phone.respond(&response).await;
            seen.push(command);
        }
        seen
    });
    let mut target = reader.wait_for_target().await.unwrap();
    let long = vec![0x5A; 4000];
    assert_eq!(target.transceive(SELECT).await.unwrap(), [SELECT, &[0x90, 0x00]].concat());
    assert_eq!(target.transceive(&long).await.unwrap(), [&long[..], &[0x90, 0x00]].concat());
    drop(target); // field off: the phone sees the connection close
    assert_eq!(phone.await.unwrap(), vec![SELECT.to_vec(), long]);
    good_tap(&mut reader).await;

    drop(reader);
    assert!(!path.exists(), "the socket file is removed with the reader");
}

#[tokio::test]
async fn malformed_frames_are_typed_errors_and_the_next_tap_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    let cases: [(&str, &'static [u8]); 6] = [
        ("unknown type", &[0x07, 0x00, 0x02, 0x90, 0x00]),
        ("wrong direction", &[0x01, 0x00, 0x02, 0x90, 0x00]),
        ("empty", &[0x02, 0x00, 0x00]),
        ("too long", &[0x02, 0x10, 0x01]),
        ("two responses", &[0x02, 0x00, 0x02, 0x90, 0x00, 0x02, 0x00, 0x02, 0x90, 0x00]),
        ("trailing garbage", &[0x02, 0x00, 0x02, 0x90, 0x00, 0xFF]),
    ];
    for (name, bytes) in cases {
        let error = bad_tap(&mut reader, move |mut phone| async move {
            phone.send_raw(bytes).await;
            // Stay in the field until the reader hangs up.
            assert!(phone.command().await.is_none());
        })
        .await;
        assert!(matches!(error, NfcError::Malformed(_)), "{name}: {error:?}");
        good_tap(&mut reader).await;
    }
}

#[tokio::test]
async fn a_command_that_cannot_be_framed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    let path = reader.path().to_owned();
    let phone = tokio::spawn(async move { Phone::connect(&path).await.command().await });
    let mut target = reader.wait_for_target().await.unwrap();
    assert!(matches!(target.transceive(&[0; 5000]).await, Err(NfcError::Malformed(_))));
    assert!(matches!(target.transceive(&[]).await, Err(NfcError::TargetLost)));
    drop(target);
    assert!(phone.await.unwrap().is_none(), "nothing was sent");
    good_tap(&mut reader).await;
}

#[tokio::test]
async fn data_before_the_command_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    let path = reader.path().to_owned();
    let phone = tokio::spawn(async move {
        let mut phone = Phone::connect(&path).await;
        phone.respond(&[0x90, 0x00]).await;
        phone.command().await
    });
    let mut target = reader.wait_for_target().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(matches!(target.transceive(SELECT).await, Err(NfcError::Malformed(_))));
    drop(target);
    assert!(phone.await.unwrap().is_none());
    good_tap(&mut reader).await;
}

#[tokio::test]
async fn a_silent_phone_times_out_and_the_next_tap_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    for partial in [&[][..], &[0x02, 0x00, 0x05, 0x90][..]] {
        let start = Instant::now();
        let error = bad_tap(&mut reader, move |mut phone| async move {
            phone.send_raw(partial).await;
            // Never answers (in full); the reader hangs up after its timeout.
            assert!(phone.command().await.is_none());
        })
        .await;
        let elapsed = start.elapsed();
        assert_eq!(error, NfcError::Timeout(100));
        assert!(elapsed >= TIMEOUT && elapsed < Duration::from_secs(2), "{elapsed:?}");
        good_tap(&mut reader).await;
    }
}

#[tokio::test]
async fn a_phone_leaving_mid_exchange_is_target_lost_and_the_next_tap_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    // Leaves without a word.
    assert_eq!(bad_tap(&mut reader, |phone| async move { drop(phone) }).await, NfcError::TargetLost);
    good_tap(&mut reader).await;
    // Leaves halfway through its answer.
    let error = bad_tap(&mut reader, |mut phone| async move { phone.send_raw(&[0x02, 0x00, 0x05, 0x90]).await }).await;
    assert_eq!(error, NfcError::TargetLost);
    good_tap(&mut reader).await;
}

#[tokio::test]
async fn phones_queue_and_are_served_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = SimulatedReader::bind(&socket_in(&dir), TIMEOUT).unwrap();
    let path = reader.path().to_owned();
    let phones: Vec<_> = (0u8..3)
        .map(|i| {
            let path = path.clone();
            tokio::spawn(async move {
                let mut phone = Phone::connect(&path).await;
                let mut answered = 0;
                while phone.command().await.is_some() {
                    phone.respond(&[i, 0x90, 0x00]).await;
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut target = reader.wait_for_target().await.unwrap();
        let first = target.transceive(SELECT).await.unwrap();
        assert_eq!(target.transceive(SELECT).await.unwrap(), first, "the same phone answers until the field drops");
        seen.push(first[0]);
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2]);
    for phone in phones {
        assert_eq!(phone.await.unwrap(), 2);
    }
}

#[test]
fn bind_replaces_a_stale_socket_but_never_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(stale); // the file stays behind, like after a crash
    let reader = SimulatedReader::bind(&path, TIMEOUT).unwrap();
    drop(reader);
    assert!(!path.exists());

    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, b"keep me").unwrap();
    let error = SimulatedReader::bind(&file, TIMEOUT).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

#[test]
fn drop_leaves_a_socket_that_is_no_longer_ours() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let first = SimulatedReader::bind(&path, TIMEOUT).unwrap();
    let second = SimulatedReader::bind(&path, TIMEOUT).unwrap(); // replaces the file
    drop(first);
    assert!(Path::new(&path).exists(), "the second reader's socket survives");
    drop(second);
    assert!(!path.exists());
}
