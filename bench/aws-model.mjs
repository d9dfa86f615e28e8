// A model of a broadcast's wall time on AWS for the default handlers, from the
// measured CPU cost of one post (bench/fanout-cpu.mjs) and AWS's documented limits.
//   node bench/aws-model.mjs [CPU ms per post=0.086] [RTT ms=10] [memory MB=256]
//
// One invocation posts at r = min(vCPU / CPU per post, posts in flight / RTT), where
// a function has memory / 1,769 vCPU ("At 1,769 MB, a function has the equivalent of
// one vCPU", https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
// Limits that bind:
//   - the sender's route answers within API Gateway's 29 s integration timeout
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html);
//   - @connections calls count against the account's API Gateway throttle, 10,000
//     requests/s by default (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
//     past it posts answer 429 LimitExceededException and are retried with backoff;
//   - one invocation runs at most 900 s; the broadcast function's timeout is the spec's (120 s);
//   - the parallel path: above 10,000 connections, segments of ~10,000, at most 100.
// The CPU figure is measured on this machine's cores (HTTPS, 64 in flight); Lambda's
// cores differ, so read the result as an order of magnitude with its binding limit.
const cpuMsPerPost = Number(process.argv[2] ?? 0.086);
const rttMs = Number(process.argv[3] ?? 10);
const memoryMb = Number(process.argv[4] ?? 256);
const IN_FLIGHT = 64;
const ACCOUNT_RPS = 10_000;
const ROUTE_TIMEOUT_S = 29;
const SEGMENT_TIMEOUT_S = 120;
const THRESHOLD = 10_000;
const SEGMENT = 10_000;
const MAX_SEGMENTS = 100;
const START_S = 0.5; // asynchronous invoke + a cold start of the broadcast function (assumed)

const vcpu = memoryMb / 1769;
const cpuRate = (vcpu * 1000) / cpuMsPerPost;
const netRate = (IN_FLIGHT * 1000) / rttMs;
const r = Math.min(cpuRate, netRate, ACCOUNT_RPS);
const fmt = (n, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

console.log(`# AWS model: ${fmt(cpuMsPerPost, 3)} CPU ms per post, RTT ${rttMs} ms, ${IN_FLIGHT} posts in flight, ${memoryMb} MB (${fmt(vcpu, 3)} vCPU)`);
console.log(`# one invocation: min(${fmt(cpuRate)} CPU-bound, ${fmt(netRate)} network-bound) = ${fmt(r)} posts/s\n`);
console.log("| connections | one invocation | bound by | parallel path | segments | bound by |");
console.log("|---:|---:|---|---:|---:|---|");
for (const n of [10_000, 100_000, 1_000_000]) {
  const single = n / r;
  const singleBound = single > ROUTE_TIMEOUT_S ? `**past the 29 s route timeout**` : r === cpuRate ? "CPU of one invocation" : "round trips of one invocation";
  // Exactly THRESHOLD ids fill the first page, which then has a LastEvaluatedKey: split too.
  const segments = n >= THRESHOLD ? Math.min(MAX_SEGMENTS, Math.max(2, Math.ceil(n / SEGMENT))) : 1;
  const perSegment = n / segments / r;
  const accountS = n / ACCOUNT_RPS;
  const parallel = (segments > 1 ? START_S : 0) + Math.max(perSegment, accountS);
  let bound = perSegment >= accountS ? "each segment's CPU / round trips" : "account's 10,000 @connections requests/s";
  if (parallel > SEGMENT_TIMEOUT_S) bound += "; **past the broadcast function's 120 s timeout**";
  console.log(`| ${fmt(n)} | ${fmt(single, 1)} s | ${singleBound} | ${fmt(parallel, 1)} s | ${segments} | ${bound} |`);
}
