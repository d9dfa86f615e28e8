import { X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

/**
 * The local cloud's certificate. `ca` is what a client must trust: the
 * certificate is self-signed, so it is its own authority.
 */
export interface LocalCertificate {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

const KEY_FILE = "local-cloud.key";
const CERT_FILE = "local-cloud.crt";
const HOSTS = ["localhost"] as const;
const IPS = ["127.0.0.1", "::1"] as const;
const VALID_DAYS = 3650;
// Regenerate a little before expiry rather than fail a session mid-day.
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

function stillGood(certPem: string, now: number): boolean {
  try {
    const x509 = new X509Certificate(certPem);
    if (Date.parse(x509.validTo) - RENEW_BEFORE_MS < now) return false;
    return HOSTS.every((h) => x509.checkHost(h) !== undefined) && IPS.every((ip) => x509.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * A certificate for 127.0.0.1, ::1 and localhost, kept in `dir` so that a
 * client which trusts it once (e.g. NODE_EXTRA_CA_CERTS) keeps trusting it
 * across restarts. Regenerated when missing, unreadable or near expiry.
 */
export async function loadOrCreateLocalCertificate(dir: string, now = Date.now()): Promise<LocalCertificate> {
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  const [key, cert] = await Promise.all([readIfPresent(keyPath), readIfPresent(certPath)]);
  if (key && cert && stillGood(cert, now)) return { key, cert, ca: cert };

  const notBeforeDate = new Date(now - 60_000); // tolerate a little clock skew between processes
  const pems = await generate([{ name: "commonName", value: "chatctl local cloud" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(now + VALID_DAYS * 24 * 60 * 60 * 1000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...HOSTS.map((value) => ({ type: 2 as const, value })), ...IPS.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Write-then-rename so a concurrent reader never sees half a key.
  const suffix = `.${process.pid}.tmp`;
  await writeFile(keyPath + suffix, pems.private, { mode: 0o600 });
  await writeFile(certPath + suffix, pems.cert, { mode: 0o644 });
  await rename(keyPath + suffix, keyPath);
  await rename(certPath + suffix, certPath);
  return { key: pems.private, cert: pems.cert, ca: pems.cert };
}
