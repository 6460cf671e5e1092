// Issue 2: list 100k sessions over REST (every page, pages fetched concurrently) and over
// gRPC (ListSessions page by page), each client in its own process for its own peak RSS.
import {startFixture, runFixture} from './fixtures/spawn.js'
import {fmt, median, report} from './lib.js'

const N = 100_000
const server = await startFixture('seeded-server.js', [N])
const {url, grpcAddress, token} = server.info
const rounds = 3
const runs = {rest100: [], rest1000: [], grpc: []}
try {
  for (let i = 0; i < rounds; i++) {
    // Interleaved, so drift on a noisy machine hits every variant alike.
    runs.rest100.push(await runFixture('list-client.js', ['rest', url, grpcAddress, token, 100]))
    runs.rest1000.push(await runFixture('list-client.js', ['rest', url, grpcAddress, token, 1000]))
    runs.grpc.push(await runFixture('list-client.js', ['grpc', url, grpcAddress, token, 500]))
  }
} finally {
  await server.stop()
}
for (const [name, r] of Object.entries(runs)) {
  if (r.some((x) => x.count !== N)) throw new Error(`${name} listed ${r.map((x) => x.count)} instead of ${N}`)
}
const ms = (r) => median(r.map((x) => x.ms))
const rss = (r) => Math.max(...r.map((x) => x.peakMiB))
report({
  title: 'List 100k sessions: REST vs gRPC (issue 2)',
  description: `Server: the embedded API server in its own process, seeded with ${N.toLocaleString('en-US')} sessions. Each client run is a fresh process (time includes connecting, not Node start-up); median of ${rounds} interleaved runs, peak RSS is the client's. REST fetches page 1, then the remaining pages 4 at a time. gRPC pages are capped at 500 by the server (like the real one).`,
  rows: [
    {name: 'REST listAll, pages of 100 (1000 requests)', value: `${fmt.ms(ms(runs.rest100))}, peak ${fmt.mib(rss(runs.rest100))}`},
    {name: 'REST listAll, pages of 1000', value: `${fmt.ms(ms(runs.rest1000))}, peak ${fmt.mib(rss(runs.rest1000))}`},
    {name: 'gRPC listAll, pages of 500', value: `${fmt.ms(ms(runs.grpc))}, peak ${fmt.mib(rss(runs.grpc))}`},
    {name: 'gRPC time / REST(100) time', value: fmt.ratio(ms(runs.grpc) / ms(runs.rest100))},
  ],
})
