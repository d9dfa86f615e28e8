// A plain `ws` fan-out client that knows nothing of chatctl: it drives any
// WebSocket chat that takes {"action":"sendmessage","message":...} and
// broadcasts the message to every connection (chatctl dev, serverless-offline...).
//   node bench/wsfanout.mjs <ws-url> [N=500] [M=50] [window=1] [handshakes in flight=32]
//
// N clients connect (at most `inFlight` handshakes at a time); one of them sends
// M broadcasts. With window 1 the next is sent once all N clients received the
// previous one; with window k, k broadcasts are in flight and a new one goes out
// each time one has reached all N. A frame counts for broadcast i when it is JSON
// whose "message" is that broadcast's text, or that text itself; other frames
// (receipts, errors) are ignored. It never waits on anything but deliveries.
import WebSocket from "ws";

const TAG = "wsfanout";

function openOne(url, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("message", (data) => onFrame(data, performance.now()));
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/**
 * Opens n connections with at most `inFlight` handshakes at a time; times from the
 * first handshake to the n-th open. A refused handshake is tried again (up to 3
 * times for that client), as a load test would; `failed` counts refusals.
 */
export async function openClients(url, n, inFlight, onFrame, deadlineMs = 120_000) {
  const clients = [];
  let started = 0;
  let failed = 0;
  let gaveUp = 0;
  const t0 = performance.now();
  const deadline = t0 + deadlineMs;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, n) }, async () => {
      while (started < n && performance.now() < deadline) {
        started++;
        for (let attempt = 1; ; attempt++) {
          try {
            clients.push(await openOne(url, onFrame));
            break;
          } catch {
            failed++;
            if (attempt >= 3) {
              gaveUp++;
              break;
            }
          }
        }
      }
    }),
  );
  return { clients, failed, gaveUp, ms: performance.now() - t0 };
}

function textOf(data) {
  const s = data.toString();
  if (s.startsWith(TAG)) return s;
  try {
    const parsed = JSON.parse(s);
    return typeof parsed?.message === "string" ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One run against `url`. `probe()` (optional) is called before and after the
 * measured broadcasts and after the handshakes; its values are handed back as
 * they are (the caller reads the emulator's CPU and memory there).
 */
export async function runFanout({ url, n, broadcasts, window = 1, inFlight = 32, warmup = 3, timeoutMs = 60_000, probe = () => undefined, settle, reopen = false }) {
  const records = new Map(); // text -> { count, lastAt }
  let wake;
  const onFrame = (data, at) => {
    const text = textOf(data);
    if (text === undefined || !text.startsWith(TAG)) return;
    const rec = records.get(text);
    if (!rec) return;
    rec.count++;
    rec.lastAt = at;
    if (rec.count === n) wake?.();
  };

  // Warm-up handshakes, not timed: both emulators start their $connect workers on the first ones.
  const warmClients = await openClients(url, inFlight, inFlight, () => undefined);
  for (const ws of warmClients.clients) ws.close();
  await new Promise((r) => setTimeout(r, 500));
  const beforeOpen = probe("before-open");
  const opened = await openClients(url, n, inFlight, onFrame);
  const afterOpen = probe("after-open");
  const connected = opened.clients.length;
  const result = {
    n,
    window,
    connected,
    connectFailed: opened.failed,
    notConnected: opened.gaveUp,
    openMs: opened.ms,
    connPerS: connected / (opened.ms / 1000),
    probes: { beforeOpen, afterOpen },
  };
  if (connected === 0) return { ...result, error: "no client connected" };
  const sender = opened.clients[0];
  const expected = connected;

  /** Sends `count` broadcasts named prefix0..prefix{count-1}, at most `window` unfinished at a time. */
  const send = async (prefix, count, win) => {
    const texts = Array.from({ length: count }, (_, i) => `${TAG} ${prefix}${i}`);
    let next = 0;
    let done = 0;
    const deadline = () => performance.now() + timeoutMs;
    let until = deadline();
    const outstanding = new Set();
    while (done < count) {
      while (next < count && outstanding.size < win) {
        const text = texts[next++];
        records.set(text, { count: 0, lastAt: 0, sentAt: performance.now() });
        outstanding.add(text);
        sender.send(JSON.stringify({ action: "sendmessage", message: text }));
      }
      for (const text of outstanding) {
        if (records.get(text).count >= expected) {
          outstanding.delete(text);
          done++;
          until = deadline();
        }
      }
      if (done >= count) break;
      if (outstanding.size >= win || next >= count) {
        if (performance.now() > until) return { texts, timedOut: true };
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    }
    return { texts, timedOut: false };
  };

  const warm = await send("warmup-", warmup, 1);
  if (warm.timedOut) return { ...result, error: "warm-up broadcasts did not reach every client" };
  const t0 = performance.now();
  const before = probe("before-broadcasts");
  const run = await send("b", broadcasts, window);
  // Frames still in flight to other clients when the last one completed.
  await new Promise((r) => setTimeout(r, 200));
  const after = probe("after-broadcasts");

  const latencies = [];
  let received = 0;
  let duplicates = 0;
  let lastAt = t0;
  for (const text of run.texts) {
    const rec = records.get(text);
    if (!rec) continue;
    received += Math.min(rec.count, expected);
    duplicates += Math.max(0, rec.count - expected);
    if (rec.count > 0) lastAt = Math.max(lastAt, rec.lastAt);
    if (rec.count >= expected) latencies.push(rec.lastAt - rec.sentAt);
  }
  for (const ws of opened.clients) ws.terminate();
  // A load test's second run against the same server: once the first N's
  // $disconnects are done (`settle`), N handshakes again, timed the same way.
  let again;
  if (reopen) {
    await settle?.();
    const beforeReopen = probe("before-reopen");
    const second = await openClients(url, n, inFlight, () => undefined);
    const afterReopen = probe("after-reopen");
    for (const ws of second.clients) ws.terminate();
    again = { connected: second.clients.length, connectFailed: second.failed, connPerS: second.clients.length / (second.ms / 1000), probes: { beforeReopen, afterReopen } };
  }
  const sorted = latencies.sort((a, b) => a - b);
  const q = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]);
  return {
    ...result,
    broadcasts,
    timedOut: run.timedOut,
    deliveries: received,
    lost: expected * broadcasts - received,
    duplicates,
    wallS: (lastAt - t0) / 1000,
    perS: received / ((lastAt - t0) / 1000),
    p50: q(0.5),
    p99: q(0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    probes: { ...result.probes, before, after },
    again,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, n = "500", m = "50", window = "1", inFlight = "32"] = process.argv.slice(2);
  if (!url) {
    console.error("usage: node bench/wsfanout.mjs <ws-url> [N] [M] [window] [handshakes in flight]");
    process.exit(2);
  }
  const r = await runFanout({ url, n: Number(n), broadcasts: Number(m), window: Number(window), inFlight: Number(inFlight) });
  console.log(JSON.stringify(r, null, 2));
}
