//! Where a client connects and how, from options and the environment
//! `jmp shell` sets (a pure function of both, so it is tested without a
//! network).
//!
//! | variable | meaning |
//! |---|---|
//! | `JUMPSTARTER_HOST` | a Unix socket path (plaintext), or `host:port` (TLS) |
//! | `JMP_GRPC_INSECURE=1`, `JUMPSTARTER_GRPC_INSECURE=1` | `host:port` in plaintext |
//! | `JMP_GRPC_PASSPHRASE` | sent as `x-jumpstarter-passphrase` on every call |
//! | `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` | a PEM file of extra trusted roots |
//!
//! Options override the environment, field by field.

use canwire_core::CanwireError;
use canwire_core::error::Result;

/// What the user asked for; `None` fields come from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A Unix socket path, `unix:///path`, or `host:port`.
    pub host: Option<String>,
    /// The exporter's passphrase.
    pub passphrase: Option<String>,
    /// `host:port` in plaintext instead of TLS.
    pub insecure: Option<bool>,
    /// Extra trusted roots for TLS, as PEM text.
    pub tls_ca: Option<String>,
}

/// How the channel to the exporter is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A Unix socket at this path, plaintext.
    Unix(String),
    /// `host:port` over plaintext TCP.
    Plain(String),
    /// `host:port` over TLS: system roots plus these PEM roots (if any).
    Tls {
        /// `host:port`.
        authority: String,
        /// Extra trusted roots as PEM text.
        ca_pem: Option<String>,
    },
}

/// A resolved target: where, how, and the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The connection.
    pub transport: Transport,
    /// Sent as `x-jumpstarter-passphrase` on every call when set.
    pub passphrase: Option<String>,
}

impl Target {
    /// The address as error messages name it (`127.0.0.1:1234`, `unix:/tmp/x/socket`).
    pub fn address(&self) -> String {
        match &self.transport {
            Transport::Unix(path) => format!("unix:{path}"),
            Transport::Plain(authority) | Transport::Tls { authority, .. } => authority.clone(),
        }
    }
}

/// True for the values `jmp` treats as set (`1`, `true`, `yes`, any case).
fn flag(value: Option<String>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// `host:port` with a numeric port, as Jumpstarter tells TCP from a socket path.
fn is_host_port(host: &str) -> bool {
    match host.rsplit_once(':') {
        Some((name, port)) => {
            !name.is_empty()
                && !name.contains('/')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The target from `options`, falling back to `env` (a variable lookup, so
/// tests pass a map). `read_file` reads `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`.
pub fn resolve(
    options: &ConnectOptions,
    env: impl Fn(&str) -> Option<String>,
    read_file: impl Fn(&str) -> std::io::Result<String>,
) -> Result<Target> {
    let host = options
        .host
        .clone()
        .or_else(|| env("JUMPSTARTER_HOST"))
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| {
            CanwireError::invalid_argument(
                "no Jumpstarter exporter to connect to: pass host (a Unix socket path or host:port) \
                 or run inside `jmp shell`, which sets JUMPSTARTER_HOST",
            )
        })?;
    let host = host.trim().to_owned();
    let passphrase = options
        .passphrase
        .clone()
        .or_else(|| env("JMP_GRPC_PASSPHRASE"))
        .filter(|p| !p.is_empty());
    let transport =
        if let Some(path) = host.strip_prefix("unix://").or(host.strip_prefix("unix:")) {
            Transport::Unix(path.to_owned())
        } else if !is_host_port(&host) {
            Transport::Unix(host)
        } else if options.insecure.unwrap_or_else(|| {
            flag(env("JMP_GRPC_INSECURE")) || flag(env("JUMPSTARTER_GRPC_INSECURE"))
        }) {
            Transport::Plain(host)
        } else {
            let ca_pem = match &options.tls_ca {
            Some(pem) => Some(pem.clone()),
            None => match env("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH").filter(|p| !p.is_empty()) {
                Some(path) => Some(read_file(&path).map_err(|e| {
                    CanwireError::invalid_argument(format!(
                        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names '{path}', which cannot be read: {e}"
                    ))
                })?),
                None => None,
            },
        };
            Transport::Tls {
                authority: host,
                ca_pem,
            }
        };
    Ok(Target {
        transport,
        passphrase,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(options: &ConnectOptions, vars: &[(&str, &str)]) -> Result<Target> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve(
            options,
            |k| map.get(k).cloned(),
            |path| {
                if path == "/ca.pem" {
                    Ok("PEM".into())
                } else {
                    Err(std::io::Error::from(std::io::ErrorKind::NotFound))
                }
            },
        )
    }

    #[test]
    fn jmp_shell_exporter_config_is_a_plaintext_unix_socket() {
        let t = with_env(
            &ConnectOptions::default(),
            &[("JUMPSTARTER_HOST", "/tmp/jumpstarter-ab12/socket")],
        )
        .unwrap();
        assert_eq!(
            t.transport,
            Transport::Unix("/tmp/jumpstarter-ab12/socket".into())
        );
        assert_eq!(t.address(), "unix:/tmp/jumpstarter-ab12/socket");
        assert_eq!(t.passphrase, None);
    }

    #[test]
    fn jmp_shell_tls_grpc_insecure_is_plaintext_tcp_with_the_passphrase() {
        let t = with_env(
            &ConnectOptions::default(),
            &[
                ("JUMPSTARTER_HOST", "127.0.0.1:4321"),
                ("JMP_GRPC_INSECURE", "1"),
                ("JMP_GRPC_PASSPHRASE", "s3cret"),
            ],
        )
        .unwrap();
        assert_eq!(t.transport, Transport::Plain("127.0.0.1:4321".into()));
        assert_eq!(t.passphrase.as_deref(), Some("s3cret"));
        let t = with_env(
            &ConnectOptions::default(),
            &[
                ("JUMPSTARTER_HOST", "127.0.0.1:4321"),
                ("JUMPSTARTER_GRPC_INSECURE", "1"),
            ],
        )
        .unwrap();
        assert_eq!(t.transport, Transport::Plain("127.0.0.1:4321".into()));
    }

    #[test]
    fn host_port_without_insecure_is_tls_with_the_roots_file() {
        let t = with_env(
            &ConnectOptions::default(),
            &[
                ("JUMPSTARTER_HOST", "localhost:4321"),
                ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "/ca.pem"),
            ],
        )
        .unwrap();
        assert_eq!(
            t.transport,
            Transport::Tls {
                authority: "localhost:4321".into(),
                ca_pem: Some("PEM".into())
            }
        );
        let e = with_env(
            &ConnectOptions::default(),
            &[
                ("JUMPSTARTER_HOST", "localhost:4321"),
                ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "/missing.pem"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code.as_str(), "ERR_INVALID_ARGUMENT");
        assert!(e.message.contains("'/missing.pem'"), "{}", e.message);
    }

    #[test]
    fn options_override_the_environment() {
        let options = ConnectOptions {
            host: Some("127.0.0.1:9".into()),
            passphrase: Some("mine".into()),
            insecure: Some(false),
            tls_ca: Some("OPTION PEM".into()),
        };
        let t = with_env(
            &options,
            &[
                ("JUMPSTARTER_HOST", "/tmp/s"),
                ("JMP_GRPC_INSECURE", "1"),
                ("JMP_GRPC_PASSPHRASE", "theirs"),
                ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "/ca.pem"),
            ],
        )
        .unwrap();
        assert_eq!(
            t.transport,
            Transport::Tls {
                authority: "127.0.0.1:9".into(),
                ca_pem: Some("OPTION PEM".into())
            }
        );
        assert_eq!(t.passphrase.as_deref(), Some("mine"));
    }

    #[test]
    fn unix_urls_and_paths_with_colons_are_sockets() {
        let t = with_env(
            &ConnectOptions {
                host: Some("unix:///run/j/socket".into()),
                ..ConnectOptions::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(t.transport, Transport::Unix("/run/j/socket".into()));
        let t = with_env(
            &ConnectOptions {
                host: Some("/tmp/a:b".into()),
                ..ConnectOptions::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(t.transport, Transport::Unix("/tmp/a:b".into()));
    }

    #[test]
    fn no_host_anywhere_says_where_one_comes_from() {
        let e = with_env(&ConnectOptions::default(), &[]).unwrap_err();
        assert_eq!(e.code.as_str(), "ERR_INVALID_ARGUMENT");
        assert!(e.message.contains("JUMPSTARTER_HOST"), "{}", e.message);
    }
}
