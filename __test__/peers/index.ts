/** The helpers that run the real Python peers (Jumpstarter 0.9, python-can 4.6) for specs; see README.md here. */
export { type ExporterConfig, scratchFolder, writeExporterConfig } from "./exporter-config.js";
export { freePort } from "./free-port.js";
export { type PeerProcess, type PeerRun, processIsAlive, startPeerProcess, stopAllPeers } from "./peer-process.js";
export { type JmpShellTlsOptions, printedResult, resultMarker, runInJmpShell, runJmpShellTls, runPythonClient } from "./python-client.js";
export { type PythonExporter, type PythonExporterOptions, startPythonExporter } from "./python-exporter.js";
export { installPythonPeers, peerEnvironment, pythonPeers, referenceExporterConfig, skipWithoutPythonPeers } from "./python-peers.js";
export { type SelfSignedCert, selfSignedCert } from "./self-signed-cert.js";
