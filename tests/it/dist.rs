//! The static Linux binary of the release archives (`bash scripts/dist.sh`): it runs in an empty
//! chroot, and it resolves a host name from `/etc/hosts` and verifies TLS against
//! `/etc/ssl/certs` with no NSS module or shared library to load.
//!
//! Needs root (chroot), openssl (a test certificate authority) and the binary built by
//! `bash scripts/dist.sh` (or `DEPLOYLINK_DIST_BINARY`); `bash .ci/run` runs them. Selected
//! without those, they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use jira_sandbox::{Credentials, Options, Sandbox};

const HOST: &str = "jira.sandbox.test";
const TOKEN: &str = "right-token";

/// The static binary under test.
fn binary() -> PathBuf {
    let path = match std::env::var_os("DEPLOYLINK_DIST_BINARY") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/x86_64-unknown-linux-gnu/dist/deploylink"),
    };
    assert!(
        path.is_file(),
        "{} is missing: build it with `bash scripts/dist.sh` (or set DEPLOYLINK_DIST_BINARY)",
        path.display()
    );
    path
}

/// An empty root holding the binary (as /deploylink) and /tmp, plus `files`.
fn root(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(binary(), dir.path().join("deploylink")).expect("copy the binary");
    std::fs::create_dir(dir.path().join("tmp")).expect("tmp");
    for (name, bytes) in files {
        let path = dir.path().join(name.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn chroot(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("chroot");
    command
        .arg(dir)
        .arg("/deploylink")
        .args(args)
        .env_clear()
        // Where `chroot` itself is found; nothing inside the root is looked up on it.
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/tmp")
        .env("TMPDIR", "/tmp");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run chroot");
    assert!(
        !String::from_utf8_lossy(&output.stderr).starts_with("chroot:"),
        "chroot failed (root is needed): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
#[ignore = "needs root, openssl and `bash scripts/dist.sh`; bash .ci/run runs it"]
fn the_static_binary_runs_version_and_demo_in_an_empty_chroot() {
    let ldd = Command::new("ldd").arg(binary()).output().expect("ldd");
    let linked =
        String::from_utf8_lossy(&ldd.stdout).into_owned() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(
        linked.contains("not a dynamic executable") || linked.contains("statically linked"),
        "ldd: {linked}"
    );
    let dir = root(&[]);
    let output = chroot(dir.path(), &["--version"], &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("deploylink {}\n", env!("CARGO_PKG_VERSION"))
    );
    let output = chroot(dir.path(), &["demo"], &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("WEB-102"),
        "{}",
        text(&output)
    );
}

/// A certificate authority and a certificate for [`HOST`] it signed, made by openssl.
struct Pki {
    ca: Vec<u8>,
    leaf: Vec<u8>,
    key: Vec<u8>,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("openssl is needed (apt-get install openssl)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            text(&output)
        );
    };
    std::fs::write(
        dir.path().join("leaf.ext"),
        format!(
            "subjectAltName=DNS:{HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=deploylink test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        &format!("/CN={HOST}"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    Pki {
        ca: read("ca.pem"),
        leaf: read("leaf.pem"),
        key: read("leaf.key"),
    }
}

/// A TLS front on 127.0.0.1 for the sandbox at `backend` (plain HTTP): returns its port.
fn tls_front(pki: &Pki, backend: std::net::SocketAddr) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_slice_iter(&pki.leaf)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&pki.key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut server) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
    });
    port
}

#[test]
#[ignore = "needs root, openssl and `bash scripts/dist.sh`; bash .ci/run runs it"]
fn the_static_binary_connects_to_a_host_named_in_etc_hosts_over_tls() {
    let jira = Sandbox::start(Options {
        credentials: Some(Credentials {
            user: Some("dana@example.com".into()),
            token: TOKEN.into(),
        }),
        ..Options::default()
    })
    .unwrap();
    let backend = jira.addr();
    let pki = pki();
    let port = tls_front(&pki, backend);
    // The chroot's own /etc/hosts names the site; its CA bundle holds the test authority only.
    let hosts = format!("127.0.0.1 {HOST}\n");
    let dir = root(&[
        ("/etc/hosts", hosts.as_bytes()),
        ("/etc/ssl/certs/ca-certificates.crt", &pki.ca),
    ]);
    let url = format!("https://{HOST}:{port}");
    let output = chroot(
        dir.path(),
        &[
            "tracker",
            "connect",
            "acme",
            "--kind",
            "jira-cloud",
            "--url",
            &url,
            "--user-env",
            "JIRA_USER",
            "--token-env",
            "JIRA_API_TOKEN",
            "--trackers",
            "/tmp/trackers.yml",
        ],
        &[("JIRA_USER", "dana@example.com"), ("JIRA_API_TOKEN", TOKEN)],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("Jira is connected as Sandbox User\n"),
        "{}",
        text(&output)
    );
    let written = std::fs::read_to_string(dir.path().join("tmp/trackers.yml")).unwrap();
    assert!(written.contains(&url), "{written}");
    let requests = jira.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/rest/api/3/myself");
}

#[test]
#[ignore = "needs root, openssl and `bash scripts/dist.sh`; bash .ci/run runs it"]
fn the_archive_has_the_documented_layout_and_its_checksum_verifies() {
    let name = format!(
        "deploylink-{}-x86_64-unknown-linux-gnu",
        env!("CARGO_PKG_VERSION")
    );
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    let archive = format!("{name}.tar.gz");
    assert!(
        dist.join(&archive).is_file(),
        "dist/{archive} is missing: build it with `bash scripts/dist.sh`"
    );
    let sum = std::fs::read_to_string(dist.join(format!("{archive}.sha256"))).unwrap();
    assert!(
        sum.len() == 64 + 2 + archive.len() + 1 && sum.ends_with(&format!("  {archive}\n")),
        "{sum:?}"
    );
    let check = Command::new("sha256sum")
        .current_dir(&dist)
        .args(["--check", &format!("{archive}.sha256")])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));
    let list = Command::new("tar")
        .args(["-tzf", dist.join(&archive).to_str().unwrap()])
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", text(&list));
    let mut entries: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|line| !line.ends_with('/'))
        .map(|line| line.trim_start_matches(&format!("{name}/")).to_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "LICENSE-APACHE",
            "LICENSE-MIT",
            "README.md",
            "completions/_deploylink",
            "completions/_deploylink.ps1",
            "completions/deploylink.bash",
            "completions/deploylink.elv",
            "completions/deploylink.fish",
            "deploylink",
            "man/deploylink.1",
        ]
    );
}
