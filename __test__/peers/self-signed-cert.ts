/** A self-signed server certificate for 127.0.0.1, for the TLS specs of gRPC peers. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pythonPeers } from "./python-peers.js";

/** PEM paths of the certificate and its key, and the environment that makes gRPC clients trust it. */
export interface SelfSignedCert {
  cert: string;
  key: string;
  /**
   * `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` = the certificate: the root store of
   * Python grpcio and of @grpc/grpc-js `credentials.createSsl()`, which is how
   * `jmp shell --tls-grpc` (it has no CA option) comes to trust it.
   */
  env: { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: string };
}

/** The same certificate written by Python's `cryptography` (in the peers' venv), where `openssl` is missing. */
const pythonWriter = `
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=2))
    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    .sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(sys.argv[2], "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
`;

/**
 * Writes `cert.pem` and `key.pem` into `dir`: an EC P-256 certificate for
 * CN 127.0.0.1 with SAN `IP:127.0.0.1`, not a CA (webpki refuses a CA
 * certificate as a server's), server-auth usage, valid for two days.
 */
export function selfSignedCert(dir: string): SelfSignedCert {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
        ...["-addext", "extendedKeyUsage=serverAuth", "-keyout", key, "-out", cert],
      ],
      { stdio: "pipe" },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    execFileSync(pythonPeers().python, ["-c", pythonWriter, cert, key], { stdio: "pipe" });
  }
  return { cert, key, env: { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: cert } };
}
